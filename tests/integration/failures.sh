#!/bin/bash
# When runs fail, and when gantry is adopted on hosts that already run: against real parts
# on loopback (Debian's docker-registry, podman with docker-compose through its socket,
# OpenSSH hosts). Each part reproduces what went wrong before and checks what a user now
# sees: promotion takes only what was verified, rollback goes only to a proven tag and its
# recorded images, a run that stops before its switch leaves deploy.env as it was, an
# environment deployed by hand gets a baseline, attach reports the run's own duration.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/containers.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/release.sh"

work=$(mktemp -d /tmp/gantry-failures.XXXXXX)
trap 'kill $bg 2>/dev/null; release_teardown >/dev/null 2>&1; rm -rf "$work"' EXIT
bg=
release_setup "$work" || { echo "Bail out! the release sandbox did not start"; exit 1; }
cfg=$work/gantry.yml
G() { "$GANTRY" --config "$cfg" "$@"; }
sd=$(release_dir staging)
pd=$(release_dir production)

# last_result ENV: the result of the newest end record
last_result() { release_history "$1" | grep '"event":"end"' | tail -n 1 | sed 's/.*"result":"\([a-z_]*\)".*/\1/'; }
# env_tag DIR: the tag deploy.env's APP_IMAGE names
env_tag() { sed -n 's/^APP_IMAGE=.*:\(sha-[0-9a-f]*\).*/\1/p' "$1/deploy.env"; }
# by_hand ENV PORT TAG: deploy TAG the way a team did before gantry: deploy.env by hand
# (tags, no digests), compose up, wait for ready
by_hand() {
	local dir i
	dir=$(release_dir "$1")
	containers_deploy_env "$dir" "$REGISTRY/shop/app:$3" "$REGISTRY/shop/migrator:$3" "$2"
	if ! containers_compose "$dir" -p "$1" up -d app >"$work/by_hand.out" 2>&1; then
		diag "compose up -d app failed:" "$(tail -n 20 "$work/by_hand.out")"
		return 1
	fi
	# up to 60 s: a loaded machine (two heavy tests at once, under ASan) can take podman
	# past 10
	for i in 1 2 3 4 5 6; do
		containers_wait_http "http://127.0.0.1:$2/api/ready" 200 $$ && return 0
	done
	diag "no ready answer on :$2 in 60 s; compose said:" "$(tail -n 20 "$work/by_hand.out")" \
		"the containers:" "$(podman ps -a --format '{{.Names}} {{.Status}} {{.Ports}}' 2>&1)" \
		"curl: $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$2/api/ready" 2>&1)"
	return 1
}
# break_blobs REPO TAG: delete the layer blobs of an image from the registry's storage
# and the image from the hosts' container store, so its manifest resolves and a pull fails
break_blobs() {
	local d
	TMPDIR=$CONTAINERS_DIR/tmp podman rmi -f "$REGISTRY/$1:$2" >/dev/null 2>&1
	for d in $(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$REGISTRY/v2/$1/manifests/$2" | grep -o '"digest":"sha256:[0-9a-f]*"' | tail -n +2 |
		sed 's/.*sha256:\([0-9a-f]*\)"/\1/'); do
		rm -rf "$CONTAINERS_DIR/registry/data/docker/registry/v2/blobs/sha256/${d:0:2}/$d"
	done
}

plan 79

release_build sha-1111111 && release_build sha-2222222 &&
	release_build sha-3333333 --migrate-exit 3 --migrate-output "relation orders already exists" &&
	release_build sha-4444444 --no-ready && release_build sha-5555555 --migrate-sleep 4 &&
	release_build sha-6666666 || { echo "Bail out! images"; exit 1; }

# --- production deployed by hand, before gantry: no history ---
by_hand production "$RELEASE_PROD_PORT" sha-1111111 || { echo "Bail out! the hand deploy"; exit 1; }
# what the host's deploy.env says after "@" is the host's word, not a digest to trust
sed -i 's|^APP_IMAGE=\(.*\)$|APP_IMAGE=\1@sha256:0;touch${IFS}PWNED|' "$pd/deploy.env"
out=$(G rollback production --dry-run 2>&1)
is "$?" 6 "with no history, a rollback has no target"
like "$out" "production has no run recorded .*gantry adopt production. records what it runs now" \
	"and the refusal points to adopt"
out=$(G rollback production --to sha-1111111 --dry-run 2>&1)
is "$?" 6 "--to a tag never verified here is refused"
like "$out" "never ran healthy on production .*--to sha-1111111 --unverified --yes" \
	"and the refusal says how to confirm an unverified tag"
out=$(G adopt production --dry-run 2>&1)
is "$?" 0 "adopt --dry-run says what it would record"
like "$out" "adopt production: record sha-1111111, which it runs, as its baseline" "naming the tag"
is "$(release_history production)" "" "and writes nothing"

# --- the first deploy adopts; a failed migrator puts deploy.env back ---
cp "$pd/deploy.env" "$work/prod.env.before"
out=$(G deploy production sha-3333333 --yes 2>&1)
is "$?" 7 "a deploy whose migrator fails ends 7"
like "$out" "adopt +production has no run recorded: sha-1111111, which its app reports ready, is recorded first" \
	"the first run adopts what production runs, and its plan says so"
like "$out" "rollback +automatic, to sha-1111111" "so the automatic rollback has a target from the start"
like "$(release_history production | head -n 1)" '"event":"adopt".*"tag":"sha-1111111".*"app_digest":"sha256:[0-9a-f]{64}"' \
	"the baseline comes first in the history, with the digests the registry gave, not deploy.env's"
if cmp -s "$work/prod.env.before" "$pd/deploy.env"; then
	ok "the run stopped before its switch: deploy.env is as it was, byte for byte"
else
	not_ok "the run stopped before its switch: deploy.env is as it was, byte for byte"
	diag "$(cat "$pd/deploy.env")"
fi
like "$out" "deploy.env put back as it was before the run" "the transcript says so"
like "$(release_history production | tail -n 1)" '"result":"failed".*"switched":false,"restored":true' \
	"and the end record"

# --- a deploy that never gets ready rolls back to the baseline, not to the failed tag ---
out=$(G deploy production sha-4444444 --yes 2>&1)
is "$?" 7 "a deploy whose app never gets ready ends 7"
like "$out" "rollback +automatic, to sha-1111111" "the plan's automatic rollback goes to the tag that ran"
is "$(last_result production)" rolled_back "it rolled back"
is "$(release_version production)" sha-1111111 "production runs sha-1111111 again, a tag that ran"
is "$(env_tag "$pd")" sha-1111111 "and deploy.env names it"
if [ -e "$pd/PWNED" ]; then not_ok "a digest planted in deploy.env never ran as a command"; else ok "a digest planted in deploy.env never ran as a command"; fi
out=$(G adopt production --yes 2>&1)
is "$?" 6 "adopt on an environment with runs recorded is refused"
like "$out" "has runs recorded already" "saying why"

# --- staging by hand too; gantry adopt records it ---
by_hand staging "$RELEASE_STAGING_PORT" sha-1111111 || { echo "Bail out! the hand deploy"; exit 1; }
out=$(G adopt staging 2>&1)
is "$?" 0 "gantry adopt staging records the baseline"
like "$(release_history staging)" '^\{"id":"adopt-[0-9T]+Z-[a-z0-9]{4}","event":"adopt".*"tag":"sha-1111111".*"operator":"' \
	"one adopt record, with its operator"
like "$(G history staging 2>&1)" "adopt +sha-1111111 +adopted" "history lists it"

# --- a failed tag on staging is never promoted ---
cp "$sd/deploy.env" "$work/staging.env.before"
out=$(G deploy staging sha-3333333 2>&1)
is "$?" 7 "sha-3333333's migrator fails on staging"
if cmp -s "$work/staging.env.before" "$sd/deploy.env"; then ok "staging's deploy.env is put back"; else not_ok "staging's deploy.env is put back"; fi
out=$(G promote production --dry-run 2>&1)
is "$?" 0 "promote offers what staging runs"
like "$out" "promote sha-1111111 from staging to production" "which is sha-1111111, not the failed tag"
like "$out" "source +staging: its app reports sha-1111111, its deploy.env names sha-1111111" \
	"the plan states what staging runs and what its deploy.env names"
like "$out" "chosen +what staging runs: its last run there \(adopt.*\) adopted it" "and why this tag"
out=$(G promote production --tag sha-3333333 --dry-run 2>&1)
is "$?" 6 "--tag for a tag whose last run on staging failed is refused"
like "$out" "the last run of sha-3333333 on staging \(a deploy by root@[^,]*, run [0-9T]+Z-[a-z0-9]{4}\) failed at run migrator: promotion takes only a tag verified there" \
	"with the run and the step that failed"
# what an older runner left behind: deploy.env naming the failed tag, the app on the old one
sed -i 's/sha-1111111/sha-3333333/g' "$sd/deploy.env"
out=$(G promote production --dry-run 2>&1)
is "$?" 6 "when staging's app and deploy.env disagree, nothing is promoted"
like "$out" "staging's app reports sha-1111111 but its deploy.env names sha-3333333" "and both are named"
cp "$work/staging.env.before" "$sd/deploy.env"

# --- a cancel and a failed pull put deploy.env back too ---
G deploy staging sha-2222222 >/dev/null 2>&1
cp "$sd/deploy.env" "$work/staging.env.before"
G deploy staging sha-5555555 >"$work/cancel" 2>&1 &
bg=$!
wait_for "$work/cancel" '^\[4/6\] run migrator' 30
(cd "$sd" && touch ".gantry/runs/$(cat .gantry/current)/cancel" && kill -USR1 "$(cat .gantry/lock/pid)")
wait $bg; r=$?; bg=
is "$r" 7 "a run cancelled in its migrator ends 7"
is "$(last_result staging)" cancelled "it was cancelled"
if cmp -s "$work/staging.env.before" "$sd/deploy.env"; then ok "deploy.env is put back after a cancel"; else not_ok "deploy.env is put back after a cancel"; fi
break_blobs shop/app sha-6666666
break_blobs shop/migrator sha-6666666
out=$(G deploy staging sha-6666666 2>&1)
is "$?" 7 "a deploy whose pull fails ends 7"
like "$out" "\[3/6\] pull images" "in the pull step"
if cmp -s "$work/staging.env.before" "$sd/deploy.env"; then ok "deploy.env is put back after a failed pull"; else not_ok "deploy.env is put back after a failed pull"; fi
is "$(release_version staging)" sha-2222222 "staging still runs sha-2222222"

# --- rollback deploys the images recorded for the healthy run ---
G promote production --yes >/dev/null 2>&1
is "$(release_version production)" sha-2222222 "production runs sha-2222222"
adopted=$(release_history production | head -n 1 | sed 's/.*"app_digest":"\(sha256:[0-9a-f]*\)".*/\1/')
release_build sha-1111111 --migrate-output "rebuilt under the same tag" >/dev/null
out=$(G rollback production --dry-run 2>&1)
is "$?" 0 "a rollback to a tag re-pointed since it ran is still planned"
like "$out" "rollback production to sha-1111111" "to the adopted tag"
like "$out" "app +[^ ]*shop/app:sha-1111111@$adopted" "with the digest recorded when it ran"
like "$out" "sha-1111111 now points to sha256:[0-9a-f]+ in the registry; this rollback deploys $adopted" \
	"and the plan says the tag now points elsewhere"
out=$(G rollback production --yes 2>&1)
is "$?" 0 "the rollback succeeds"
like "$(cat "$pd/deploy.env")" "APP_IMAGE=.*sha-1111111@$adopted" "deploy.env pins the recorded digest"

# --- --to an unverified tag needs --unverified and --yes ---
out=$(G rollback production --to sha-5555555 --unverified --dry-run 2>&1)
is "$?" 0 "--unverified plans the unverified tag"
like "$out" "NOT VERIFIED: sha-5555555 never ran healthy on production" "and the plan says it was never verified here"
out=$(G rollback production --to sha-5555555 --unverified 2>&1)
is "$?" 6 "without --yes it is refused"
out=$(G rollback production --to sha-5555555 --unverified --yes 2>&1)
is "$?" 0 "with --unverified --yes it runs"
is "$(release_version production)" sha-5555555 "and production runs it"

# --- attach reports the run's own duration ---
G deploy staging sha-5555555 >/dev/null 2>&1
out=$(G attach staging 2>&1)
took=$(printf '%s\n' "$out" | sed -n 's/^staging: deploy sha-5555555: succeeded (\([0-9.]*\)s)$/\1/p')
if [ -n "$took" ] && awk -v t="$took" 'BEGIN { exit !(t >= 4.0 && t < 120) }'; then
	ok "attach after the end reports the run's duration from the host ($took s, with a 4 s migrator)"
else
	not_ok "attach after the end reports the run's duration from the host"
	diag "$out"
fi

# --- a compose command that starts with VAR=value works in the log commands too ---
out=$(G logs production 2>&1)
is "$?" 0 "gantry logs through a compose that starts with DOCKER_HOST=... exits 0"
like "$out" "app_1 +\| app sha-[0-9]+ \(commit [0-9]+\) listening" "and prints the app container's log"

# --- a migrator kept out of a plain "up" by a compose profile: the default steps work ---
sed -i 's/^    restart: "no"$/    restart: "no"\n    profiles: [migrate]/' "$sd/docker-compose.yml"
sed -i 's/docker-compose -p staging --env-file/docker-compose -p staging --profile migrate --env-file/' "$cfg"
out=$(G deploy staging sha-2222222 2>&1)
is "$?" 0 "with the migrator in a compose profile named in compose:, the default plan deploys"
like "$out" "applying migration 0003_index_orders \.\.\. ok" "and runs the migrator, which it names"
out=$(G logs staging migrator 2>&1)
like "$out" "migrator sha-2222222" "its log shows through {compose} logs migrator"

# --- a run that fails on the second host of two ---
release_fleet || { echo "Bail out! the fleet hosts did not start"; exit 1; }
f1=$RELEASE_FLEET1
f2=$RELEASE_FLEET2
G deploy fleet sha-1111111 >/dev/null 2>&1
touch "$SSHD_DIR/fleet-2/deploy/refuse-sha-2222222"
out=$(G deploy fleet sha-2222222 2>&1)
is "$?" 7 "without automatic rollback, a run that fails on host 2 ends 7"
like "$out" "failed on root@$f2, so the hosts differ: root@$f1 runs sha-2222222, while root@$f2 still runs what it ran before \(deploy.env put back\)\. .gantry rollback fleet. puts every host back" \
	"and says which host runs what, and how to put them all back"
out=$(G rollback fleet --yes 2>&1)
is "$?" 0 "the rollback puts every host back"
is "$(env_tag "$SSHD_DIR/fleet-1/deploy") $(env_tag "$SSHD_DIR/fleet-2/deploy")" "sha-1111111 sha-1111111" \
	"both hosts name sha-1111111"
sed -i '/^  - name: fleet/,$ s/^    deploy:$/    deploy:\n      auto_rollback: true/' "$cfg"
out=$(G deploy fleet sha-2222222 2>&1)
is "$?" 7 "with automatic rollback, the run that fails on host 2 ends 7"
like "$out" "sha-2222222 failed on root@$f2 \(failed\); the 1 host before it went back to sha-1111111: every host runs sha-1111111" \
	"and the host it had switched is rolled back"
is "$(env_tag "$SSHD_DIR/fleet-1/deploy") $(env_tag "$SSHD_DIR/fleet-2/deploy")" "sha-1111111 sha-1111111" \
	"so the environment ends on one tag"
like "$(G history fleet 2>&1 | head -n 3)" "rollback +sha-1111111 +succeeded" "the rollback of host 1 is in the history"

# --- one host of two down: its runs are missing, the other's are shown, and it says so ---
sshd_kill fleet-2
out=$(G history fleet 2>"$work/history.err")
is "$?" 4 "history with a host down exits 4"
like "$out" "deploy +sha-2222222 " "and still prints the runs the other host recorded"
like "$(cat "$work/history.err")" "1 of 2 hosts of fleet not read, their runs are missing below: root@$f2: " \
	"and names the host that was not read"
out=$(G rollback fleet --dry-run 2>&1)
is "$?" 6 "a rollback is still refused while a host cannot be read"
sshd_restart fleet-2

# --- the registry down during an incident: a rollback still runs where the hosts hold the images ---
check_cmd="CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF TMPDIR=$CONTAINERS_DIR/tmp podman image exists {image}"
sed -i "/^  - name: production/,/^  - name: fleet/ s|^      auto_rollback: true$|      auto_rollback: true\n      image_check: \"$check_cmd\"|" "$cfg"
G rollback production --to sha-2222222 --yes >/dev/null 2>&1
containers_stop_pid "$(cat "$CONTAINERS_DIR/registry/pid")"
out=$(G rollback production --dry-run 2>&1)
is "$?" 0 "with the registry down, a rollback to images the host holds is planned"
like "$out" "the registry cannot be reached \(.*\): every host holds the images sha-5555555 ran as \(checked with deploy.image_check\), so this rollback uses them and pulls nothing" \
	"with a warning in the plan"
unlike "$out" "pull images" "and no pull step"
out=$(G rollback production --yes 2>&1)
is "$?" 0 "the rollback runs with the registry down"
is "$(release_version production)" sha-5555555 "and production runs the tag it went back to"
prev=$(sed -n 's/^APP_IMAGE=//p' "$pd/deploy.env.prev")
TMPDIR=$CONTAINERS_DIR/tmp podman rmi -f "$(printf '%s' "$prev" | sed 's/:sha-[0-9a-f]*@/@/')" >/dev/null 2>&1
TMPDIR=$CONTAINERS_DIR/tmp podman rmi -f "${prev%@*}" >/dev/null 2>&1
out=$(G rollback production --dry-run 2>&1)
is "$?" 6 "when a host lacks the images, nothing starts"
like "$out" "the registry cannot be reached .*not every host holds the images sha-2222222 ran as: root@127\.0\.0\.1:[0-9]+ \(not there\)" \
	"and the refusal names the host"

done_testing
