#!/bin/bash
# Promotions, rollbacks and deploys from the command line, against real parts on
# loopback: Debian's docker-registry, podman with docker-compose through its socket,
# and OpenSSH hosts whose deploy directories hold the compose project.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/containers.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/release.sh"

work=$(mktemp -d /tmp/gantry-deploy.XXXXXX)
trap 'kill $bg 2>/dev/null; release_teardown >/dev/null 2>&1; rm -rf "$work"' EXIT
bg=
release_setup "$work" || { echo "Bail out! the release sandbox did not start"; exit 1; }
cfg=$work/gantry.yml
G() { "$GANTRY" --config "$cfg" "$@"; }

# last_result ENV: the result of the newest end record
last_result() { release_history "$1" | grep '"event":"end"' | tail -n 1 | sed 's/.*"result":"\([a-z_]*\)".*/\1/'; }

plan 122

for t in sha-1111111 sha-2222222; do release_build $t || { echo "Bail out! images"; exit 1; }; done
release_build sha-3333333 --migrate-exit 3 --migrate-output "relation orders already exists" ||
	{ echo "Bail out! images"; exit 1; }
release_build sha-4444444 --no-ready || { echo "Bail out! images"; exit 1; }
release_build sha-5555555 --migrate-sleep 4 || { echo "Bail out! images"; exit 1; }

# --- a first deploy of staging, then a promotion to production ---
out=$(G deploy staging sha-1111111 2>&1)
is "$?" 0 "deploy staging sha-1111111 succeeds"
like "$out" "\[4/6\] run migrator" "its transcript names each step"
like "$out" "applying migration 0001_create_users \.\.\. ok" "and shows the migrator's output"
is "$(release_version staging)" sha-1111111 "staging's app answers with the new tag"

out=$(G promote production --dry-run 2>&1)
is "$?" 0 "promote --dry-run exits 0"
like "$out" "promote sha-1111111 from staging to production" "the plan names the tag and both ends"
like "$out" "app +127\.0\.0\.1:[0-9]+/shop/app:sha-1111111@sha256:[0-9a-f]{64}" "and the app digest"
like "$out" "migrator +127\.0\.0\.1:[0-9]+/shop/migrator:sha-1111111@sha256:[0-9a-f]{64}" "and the migrator digest"
like "$out" "start app .*\[switch: no cancel from here\]" "and marks the switch step"
if [ -d "$(release_dir production)/.gantry/runs" ]; then not_ok "a dry run starts nothing"; else ok "a dry run starts nothing"; fi

out=$(G promote staging production 2>&1)
is "$?" 6 "a protected environment without --yes is refused (exit 6)"
like "$out" "production is protected: run again with --yes" "and says how to confirm"

out=$(G promote staging production --yes 2>&1)
is "$?" 0 "promote staging production --yes succeeds"
is "$(release_version production)" sha-1111111 "production answers with staging's tag"
like "$(cat "$(release_dir production)/deploy.env")" "APP_IMAGE=127\.0\.0\.1:[0-9]+/shop/app:sha-1111111@sha256:" \
	"deploy.env pins the image by tag and digest"
staging_digest=$(sed -n 's/^APP_IMAGE=.*@//p' "$(release_dir staging)/deploy.env")
prod_digest=$(sed -n 's/^APP_IMAGE=.*@//p' "$(release_dir production)/deploy.env")
is "$prod_digest" "$staging_digest" "production runs the very digest staging tested"

G deploy staging sha-2222222 >/dev/null 2>&1
out=$(G promote production --tag sha-1111111 --dry-run 2>&1)
is "$?" 0 "promote --tag names another tag than the source runs"
like "$out" "promote sha-1111111 from staging to production" "and the plan is for that tag"
out=$(G promote production --yes 2>&1)
is "$?" 0 "the next tag is promoted too"
like "$out" "rollback +automatic, to sha-1111111" "with an automatic rollback to the tag before"
is "$(release_version production)" sha-2222222 "production runs sha-2222222"
is "$(cat "$(release_dir production)/deploy.env.prev" | sed -n 's/^APP_IMAGE=.*:\(sha-[0-9]*\)@.*/\1/p')" \
	sha-1111111 "the previous deploy.env is kept as deploy.env.prev"

# --- history ---
out=$(G history production 2>&1)
is "$?" 0 "history production exits 0"
like "$out" "promote +sha-2222222 +succeeded .*root@" "it lists the runs with their operator"
out=$(GANTRY_OPERATOR="alice (release)" G history production --json 2>&1)
like "$out" '"operator": "root@' "history --json has the operator"
like "$out" '"started_at": "20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"' \
	"and its times in RFC 3339 too, as status --json gives them"
like "$out" '"name": "run migrator"' "and each step with its timing"
rec=$(release_history production | head -n 1)
like "$rec" '"event":"start".*"operator":"[^"]+".*"action":"promote".*"tag":"sha-1111111".*"app_digest":"sha256:' \
	"the host's history has a start record with operator, action, tag and digests"

# --- a failing migrator leaves the app alone ---
out=$(G deploy staging sha-3333333 2>&1)
is "$?" 7 "a failing migrator fails the deploy (exit 7)"
like "$out" "relation orders already exists" "its output is shown"
like "$out" "failed \(exit 3\)" "with its exit status"
is "$(release_version staging)" sha-2222222 "the app still runs the tag before"
is "$(last_result staging)" failed "history says failed"
like "$(release_history staging | tail -n 1)" '"switched":false,"restored":true' \
	"and that the run stopped before the switch and put deploy.env back"
out=$(G deploy staging sha-2222222 --dry-run 2>&1)
like "$out" "now +sha-2222222"$'\n' "the next plan is what it was before the failed run: deploy.env names what runs"

# --- ready never passes: production rolls back by itself ---
out=$(G deploy production sha-4444444 --yes 2>&1)
is "$?" 7 "a deploy whose app never gets ready ends non-zero"
like "$out" "not ready after 6s" "the ready wait says why"
like "$out" "rollback \[[0-9]+/[0-9]+\] start app" "the rollback steps run"
is "$(last_result production)" rolled_back "history says rolled_back"
is "$(release_version production)" sha-2222222 "production is back on sha-2222222"

# --- a smoke check whose body does not hold its text: production rolls back by itself ---
cp "$cfg" "$cfg.orig"
sed -i 's|^      smoke: \[/api/version\]$|      smoke: [/api/version, {path: /api/version, body: "\\"version\\":\\"sha-2222222\\""}]|' "$cfg"
out=$(G deploy production sha-1111111 --yes 2>&1)
is "$?" 7 "a smoke check whose body lacks its text fails the deploy"
like "$out" "its body does not contain \"\"version\":\"sha-2222222\"\"" "the check says what the body lacked"
like "$out" "rollback \[[0-9]+/[0-9]+\] smoke GET /api/version" "the rollback runs the smoke checks too"
like "$out" "ok: http://127\.0\.0\.1:[0-9]+/api/version answered 200, its body containing" \
	"and on the tag before, the body holds the text"
is "$(last_result production)" rolled_back "history says rolled_back"
is "$(release_version production)" sha-2222222 "production is back on sha-2222222"
mv "$cfg.orig" "$cfg"

# --- rollback: to the last healthy tag before the current one, crossing a migration ---
out=$(G rollback production --dry-run 2>&1)
like "$out" "rollback production to sha-1111111" "rollback picks the last healthy tag before the current one"
like "$out" "crosses a migration: sha-2222222 ran migrations" "and warns that it crosses a migration"
unlike "$out" "run migrator" "a rollback does not run the migrator"
out=$(G rollback production --yes 2>&1)
is "$?" 0 "rollback production succeeds"
is "$(release_version production)" sha-1111111 "production runs sha-1111111 again"

# --- freeze blocks promotion, never rollback ---
out=$(GANTRY_OPERATOR=carol G freeze production -m "black friday" 2>&1)
is "$?" 0 "freeze production exits 0"
out=$(G promote production --yes 2>&1)
is "$?" 6 "a frozen environment refuses a promotion"
like "$out" "frozen by carol .*black friday" "saying who froze it and why"
out=$(G rollback production --to sha-2222222 --dry-run 2>&1)
is "$?" 0 "a rollback is still allowed while frozen"
G unfreeze production >/dev/null 2>&1
like "$(release_history production | tail -n 1)" '"kind":"unfreeze"' "freeze and unfreeze are recorded"

# --- two gantry processes race: exactly one gets the lock ---
G deploy staging sha-1111111 >"$work/race1" 2>&1 &
p1=$!
G deploy staging sha-1111111 >"$work/race2" 2>&1 &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
is "$(printf '%s\n' $r1 $r2 | sort | tr '\n' ' ')" "0 6 " "of two racing deploys, one succeeds and one is refused"
like "$(cat "$work/race1" "$work/race2")" "locked by root@" "the refused one names the lock's owner"

# --- gantry killed mid-deploy: the run finishes on the host; attach shows it ---
"$GANTRY" --config "$cfg" deploy staging sha-5555555 >"$work/killed" 2>&1 &
bg=$!
wait_for "$work/killed" "\[4/6\] run migrator" 30
kill -9 $bg; wait $bg 2>/dev/null; bg=
out=$(G attach staging 2>&1)
is "$?" 0 "attach after gantry was killed follows the run to its end"
like "$out" "staging: deploy sha-5555555: succeeded" "and reports the result"
is "$(release_version staging)" sha-5555555 "the run finished on the host"

# --- the SSH link drops mid-plan: gantry re-attaches and sees the end ---
G deploy staging sha-2222222 >"$work/drop" 2>&1 &
bg=$!
wait_for "$work/drop" "\[4/6\] run migrator" 30
sshd_kill staging-1
sshd_restart staging-1
wait $bg; r=$?; bg=
is "$r" 0 "a deploy whose link dropped mid-plan ends with the run's result"
like "$(cat "$work/drop")" "link to .* lost .* re-attaching" "and says the link was lost and re-attached"

# --- read-only mode reaches no write command ---
out=$(G --read-only promote production --yes 2>&1)
is "$?" 6 "--read-only refuses promote"
like "$out" "read-only mode" "saying why"
out=$("$GANTRY" --read-only --config "$cfg" freeze production -m x 2>&1)
is "$?" 6 "and freeze"

# --- a tag re-pointed after staging tested it is refused ---
release_build sha-2222222 --migrate-output "a different build" >/dev/null
out=$(G promote production --dry-run 2>&1)
is "$?" 6 "a tag re-pointed since staging deployed it is refused"
like "$out" "staging ran sha-2222222 as sha256:[0-9a-f]+, but the tag now points to sha256:[0-9a-f]+: it was re-pointed" \
	"naming both digests"

# --- a stale lock (its run is gone) is refused, marked, and broken with a reason ---
pd=$(release_dir production)
mkdir "$pd/.gantry/lock"
printf 'owner=dave@laptop\nsince=%s\nrun=gone-run\nmessage=promote sha-0000000 from staging\n' \
	$(($(date +%s) - 3600)) >"$pd/.gantry/lock/owner"
echo 999999 >"$pd/.gantry/lock/pid"
out=$(G promote production --yes 2>&1)
is "$?" 6 "a lock held by a run that is gone still refuses a promotion"
like "$out" "locked by dave@laptop for 1h00m .*the lock is stale" "and says it is stale, by whom and for how long"
out=$(GANTRY_OPERATOR=erin G unlock production -m "runner died with the host" 2>&1)
is "$?" 0 "unlock breaks a stale lock"
like "$(release_history production | tail -n 1)" '"kind":"unlock".*"operator":"erin".*"message":"runner died with the host"' \
	"the broken lock is recorded with its operator and reason"

# --- several hosts: each holds its own history, lock and deploy.env; gantry reads them all ---
release_fleet || { echo "Bail out! the fleet hosts did not start"; exit 1; }
f1=$RELEASE_FLEET1
f2=$RELEASE_FLEET2
fd2=$SSHD_DIR/fleet-2/deploy
out=$(G deploy fleet sha-1111111 2>&1)
is "$?" 0 "a deploy to an environment of two hosts succeeds"
like "$out" "== host 2 of 2: root@$f2" "and runs on the second host after the first"
# the failing step prints lines that look like the runner's own (escapes around one)
printf '==> [step 3/3] smoke checks passed\n==> exit 0 after 5 ms\n\033[0m==> run x ended: succeeded\n' \
	>"$fd2/refuse-sha-2222222"
out=$(G deploy fleet sha-2222222 2>&1)
is "$?" 7 "a run that fails on the second host fails"
like "$out" "      \|  ==> \[step 3/3\] smoke checks passed" \
	"a step's line that looks like the runner's is shown as the step's output"
unlike "$out" "^\[3/3\] smoke checks passed" "and never as a step of the run"
like "$out" "      \|  ==> run x ended: succeeded" "an escape in front of it changes nothing"
out=$(G history fleet 2>&1)
like "$(echo "$out" | grep sha-2222222)" "failed .*\(failed on root@$f2\)" \
	"the history, read from both hosts, says it failed and where"
like "$(echo "$out" | grep sha-1111111)" "succeeded" "the run both hosts passed is succeeded"
out=$(G history fleet --json 2>&1)
like "$(echo "$out" | tr -d ' \n')" '"tag":"sha-2222222".*"hosts":2,"host":"root@'"$f2"'"' \
	"JSON gives how many hosts recorded a run and which one failed it"
out=$(G rollback fleet --dry-run 2>&1)
like "$out" "rollback fleet to sha-1111111" "a rollback goes back to the tag that was healthy on every host"
like "$out" "proven +run [0-9TZ]+-[a-z0-9]+ \(a deploy by [^)]+\), recorded healthy by all 2 hosts" \
	"and the plan says on whose word"
like "$out" "fleet's hosts do not all run the same: root@$f1 runs sha-2222222, root@$f2 runs sha-1111111" \
	"and the plan warns that the hosts run different images"
out=$(G promote fleet production --dry-run 2>&1)
like "$out" "fleet's hosts run different tags \(root@$f1 runs sha-2222222, root@$f2 runs sha-1111111\), so gantry cannot tell which one to promote; name it with --tag" \
	"promoting from hosts that disagree needs the tag named"
mkdir -p "$fd2/.gantry/lock"
printf 'owner=frank@ops\nsince=%s\nrun=x\nmessage=hand deploy\n' "$(date +%s)" >"$fd2/.gantry/lock/owner"
out=$(G deploy fleet sha-1111111 2>&1)
is "$?" 6 "a lock on the second host refuses a deploy"
like "$out" "fleet is locked on root@$f2 by frank@ops" "naming the host that holds it"
out=$(G unlock fleet -m "hand deploy finished" 2>&1)
like "$out" "root@$f2: lock broken" "unlock breaks it there"
out=$(G deploy fleet sha-1111111 2>&1)
is "$?" 0 "and the deploy goes on"

# one host's word is not the environment's: a healthy run planted in one host's history
# (the digests of a build that failed there) is never a rollback target, even named
fh1=$SSHD_DIR/fleet-1/deploy/.gantry/history.jsonl
cp "$fh1" "$work/fleet-1.history"
now=$(date +%s)
printf '{"id":"20991231T000000Z-evil","event":"start","started":%s,"operator":"mallory","action":"deploy","env":"fleet","tag":"sha-2222222","app_digest":"%s","migrator_digest":"%s","steps":["a"]}\n{"id":"20991231T000000Z-evil","event":"end","ended":%s,"result":"succeeded","steps":[]}\n' \
	"$now" "$(containers_digest shop/app sha-2222222)" "$(containers_digest shop/migrator sha-2222222)" \
	"$now" >>"$fh1"
out=$(G rollback fleet --dry-run 2>&1)
is "$?" 6 "a run planted on one host is no rollback target"
like "$out" "no run of a tag other than sha-1111111 that every host ran healthy.*root@$f1 recorded run 20991231T000000Z-evil \(1 of 2 hosts\)" \
	"the refusal names the host whose word it was"
out=$(G rollback fleet --to sha-2222222 --dry-run 2>&1)
is "$?" 6 "nor when it is named"
like "$out" "sha-2222222 is not proven on fleet: root@$f1 recorded run" "saying why"
cp "$work/fleet-1.history" "$fh1"

# --- many hosts at once: the first alone, then three at a time; a failure starts no other
# host, and with automatic rollback the hosts that took the tag go back ---
release_wave 4 3 || { echo "Bail out! the wave hosts did not start"; exit 1; }
wave_tag() { sed -n 's/^APP_IMAGE=.*:\(sha-[0-9a-f]*\).*/\1/p' "$SSHD_DIR/wave-$1/deploy/deploy.env"; }
out=$(G deploy wave sha-1111111 2>&1)
is "$?" 0 "a deploy to four hosts, three at a time after the first, succeeds"
like "$out" "^\[root@$RELEASE_WAVE1\] +\| at once: 1$" "the first host runs alone, each line naming its host"
like "$out" "^\[root@127\.0\.0\.1:[0-9]+\] +\| at once: 3$" "then the other three run at once"
is "$(wave_tag 1) $(wave_tag 2) $(wave_tag 3) $(wave_tag 4)" "sha-1111111 sha-1111111 sha-1111111 sha-1111111" \
	"and every host runs the tag"
touch "$SSHD_DIR/wave-3/deploy/refuse-sha-2222222"
out=$(G deploy wave sha-2222222 2>&1)
is "$?" 7 "a run that fails on one of the hosts running at once fails"
like "$out" "sha-2222222 failed on root@$RELEASE_WAVE3 \(failed\); the 3 hosts that had taken it went back to sha-1111111: every host runs sha-1111111" \
	"and the three hosts that had taken it went back, together"
is "$(wave_tag 1) $(wave_tag 2) $(wave_tag 3) $(wave_tag 4)" "sha-1111111 sha-1111111 sha-1111111 sha-1111111" \
	"so the environment ends on one tag"
out=$(G history wave 2>&1)
like "$(echo "$out" | grep -m1 sha-2222222)" "failed .*\(failed on root@$RELEASE_WAVE3\)" \
	"the history, read from the four hosts, says where it failed"
# one host at a time: the third fails, so the two before it go back, and the fourth,
# never reached, is left alone (the way back once gave it the failed build)
sed -i 's/^      parallel: 3$/      parallel: 1/' "$cfg"
runs4() { grep -c '"event":"start"' "$SSHD_DIR/wave-4/deploy/.gantry/history.jsonl"; }
before=$(runs4)
out=$(G deploy wave sha-2222222 2>&1)
is "$?" 7 "one host at a time, a failure on the third fails the run"
is "$(wave_tag 1) $(wave_tag 2) $(wave_tag 3) $(wave_tag 4)" "sha-1111111 sha-1111111 sha-1111111 sha-1111111" \
	"the two before it went back and the fourth was never touched"
[ "$TAP_FAILED" -eq 0 ] || diag "$out"
is "$(runs4)" "$before" "the fourth host has no new run"

# --- a run over several hosts is the environment's: whoever stops following it (kill -9,
# C-c), the hosts not reached wait under its lease, and attach carries it on ---
rm -f "$SSHD_DIR/wave-3/deploy/refuse-sha-2222222"
wave_locks() { local i n=0; for i in 1 2 3 4; do [ -d "$SSHD_DIR/wave-$i/deploy/.gantry/lock" ] && n=$((n + 1)); done; echo $n; }
"$GANTRY" --config "$cfg" deploy wave sha-2222222 >"$work/wave-killed" 2>&1 &
bg=$!
wait_for "$work/wave-killed" "== host 2 of 4" 30
kill -9 $bg; wait $bg 2>/dev/null; bg=
is "$(wave_locks)" 4 "gantry killed while the second of four hosts runs: every host still holds the run's lease"
out=$(G --read-only attach wave 2>&1)
is "$?" 7 "read-only, attach follows the run but does not carry it on: it is partial"
like "$out" "wave: deploy sha-2222222: partial" "and says so"
like "$out" "not reached: root@$RELEASE_WAVE3, root@$RELEASE_WAVE4" "naming the hosts left behind"
is "$(wave_tag 3) $(wave_tag 4)" "sha-1111111 sha-1111111" "which it did not touch"
out=$(G attach wave 2>&1)
is "$?" 0 "attach carries the run on to its end"
[ "$TAP_FAILED" -eq 0 ] || diag "$out"
like "$out" "carrying on run [0-9TZ]+-[a-z0-9]+ \(deploy sha-2222222 by " "saying whose run it carries on"
is "$(wave_tag 1) $(wave_tag 2) $(wave_tag 3) $(wave_tag 4)" "sha-2222222 sha-2222222 sha-2222222 sha-2222222" \
	"so every host runs the tag"
is "$(wave_locks)" 0 "and the lease is let go on every host"
out=$(G history wave 2>&1)
like "$(echo "$out" | grep -m1 sha-2222222)" "succeeded" "the history says succeeded, recorded by the four hosts"
"$GANTRY" --config "$cfg" deploy wave sha-1111111 >"$work/wave-int" 2>&1 &
bg=$!
wait_for "$work/wave-int" "\[1/4\] check host" 30
kill -INT $bg; wait $bg; r=$?; bg=
is "$r" 130 "C-c while the first host runs stops following"
like "$(cat "$work/wave-int")" "the hosts not reached wait under its lease until .gantry attach wave. carries it on" \
	"and says who carries the run on"
out=$(G attach wave 2>&1)
is "$?" 0 "attach carries it on"
is "$(wave_tag 1) $(wave_tag 2) $(wave_tag 3) $(wave_tag 4)" "sha-1111111 sha-1111111 sha-1111111 sha-1111111" \
	"and the environment ends on one tag"
[ "$TAP_FAILED" -eq 0 ] || diag "$out"
sed -i 's/^      parallel: 1$/      parallel: 3/' "$cfg"

# --- the registry is down: nothing starts, and the message says so ---
containers_stop_pid "$(cat "$CONTAINERS_DIR/registry/pid")"
out=$(G promote production --yes 2>&1)
is "$?" 6 "with the registry down, a promotion is refused"
like "$out" "shop/app:sha-[0-9]+: .*(refused|connect|reach)" "naming the registry's trouble"
is "$(release_version production)" sha-1111111 "and production is untouched"
if ls "$pd/.gantry/runs" | grep -q .; then
	is "$(last_result production)" succeeded "no new run was recorded"
else
	not_ok "no new run was recorded"
fi
