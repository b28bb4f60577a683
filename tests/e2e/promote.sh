#!/bin/bash
# Promotion and rollback in the dashboard, end to end with real parts: the registry,
# podman with docker-compose, OpenSSH hosts; gantry driven in tmux, asserted on screen.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/containers.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/release.sh"
. "$srcdir/tests/lib/tui.sh"

work=$(mktemp -d /tmp/gantry-e2e-promote.XXXXXX)
trap 'tui_stop; kill $bg 2>/dev/null; release_teardown >/dev/null 2>&1; rm -rf "$work"' EXIT
bg=
release_setup "$work" || { echo "Bail out! the release sandbox did not start"; exit 1; }
cfg=$work/gantry.yml
G() { "$GANTRY" --config "$cfg" "$@"; }
# production keeps :stable on what it runs, ready (deploy.retag), in the anonymous registry
sed -i 's/^      auto_rollback: true$/&\n      retag: stable/' "$cfg"
# stable_is TAG: the registry's :stable is the app image of TAG
stable_is() {
	[ -n "$(digest_of stable)" ] && [ "$(digest_of stable)" = "$(digest_of "$1")" ]
}
digest_of() {
	curl -s -o /dev/null -D - -H "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json" \
		"http://$REGISTRY/v2/shop/app/manifests/$1" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}
release_build sha-1111111 && release_build sha-2222222 &&
	release_build sha-3333333 --migrate-sleep 4 --migrate-output "slow migration 0042" ||
	{ echo "Bail out! images"; exit 1; }
G deploy staging sha-1111111 >/dev/null 2>&1 && G promote production --yes >/dev/null 2>&1 &&
	G deploy staging sha-2222222 >/dev/null 2>&1 || { echo "Bail out! first deploys"; exit 1; }

plan 81

# --- a promotion: the plan, a typed confirmation, the steps, the result ---
tui_start 140 42 "$GANTRY --config $cfg"
tui_wait 'production +sha-1111111' 15
tui_keys j p p r o d u c t i o n Enter
check "what is typed while the plan is gathered counts for nothing, and the pane says so" \
	tui_wait 'the plan is still being gathered: nothing typed counts until it shows' 10
check "p on production shows the plan of staging's tag" tui_wait 'promote sha-2222222 staging . production' 15
tui_wait 'Type its name to confirm' 15
like "$(tui_screen)" 'Type its name to confirm.*: _' "and the name typed early is not in its confirmation"
like "$(tui_screen)" 'migrator +127\.0\.0\.1:[0-9]+/shop/migrator:sha-2222222@sha256:[0-9a-f]{64}' \
	"the plan shows the migrator's digest"
like "$(tui_screen)" 'production runs sha-1111111 now' "and what production runs now"
like "$(tui_screen)" 'start app +\[switch\] compose: up -d --no-deps app' "and the steps, the switch marked"
like "$(tui_screen)" 'production is protected\. Type its name to confirm' "a protected environment asks for its name"
like "$(tui_screen)" 'retag +stable moved to sha-2222222 in the registry once every host is ready' \
	"the plan says :stable moves once every host is ready"
check "before it, :stable is what production ran ready: sha-1111111" stable_is sha-1111111
tui_keys p r o d Enter
check "a wrong name is refused" tui_wait '"prod" is not "production"' 5
tui_keys p r o d u c t i o n Enter
check "the typed name starts the run" tui_wait 'running +run migrator|done +run migrator' 20
check "the migrator's output streams into the pane" tui_wait 'applying migration 0003_index_orders' 20
check "the promotion succeeds" tui_wait 'SUCCEEDED: production runs sha-2222222 and is ready' 30
like "$(tui_screen)" 'retag +stable now names sha-2222222 in the registry' "the pane says :stable moved"
check "and the registry's :stable is sha-2222222's app image" stable_is sha-2222222
like "$(tui_screen)" 'done +wait for ready' "each step shows as done"
is "$(release_version production)" sha-2222222 "production answers with the promoted tag"

# --- the history pane, and a rollback from it ---
tui_keys Escape h
check "h shows production's history" tui_wait 'history of production' 10
check "with both promotions" tui_wait 'promote +sha-1111111 +succeeded' 10
tui_keys j b
check "b on the older run plans a rollback to its tag" tui_wait 'rollback production . sha-1111111' 15
tui_wait 'Type its name to confirm' 15
like "$(tui_screen)" 'crosses a migration: sha-2222222 ran migrations' "the confirmation warns of the migration crossed"
unlike "$(tui_screen)" 'run migrator' "a rollback does not run the migrator"
tui_keys p r o d u c t i o n Enter
check "the rollback succeeds" tui_wait 'SUCCEEDED: production runs sha-1111111' 30
check "the rollback, once ready, moved :stable back to sha-1111111" stable_is sha-1111111
is "$(release_version production)" sha-1111111 "production runs the tag picked in the history"
tui_keys Escape
tui_wait 'history of production' 5
tui_keys r
check "the history now holds the rollback, with its operator" tui_wait 'rollback +sha-1111111 +succeeded .*root@' 10
tui_stop

# --- a run in progress is followed when gantry starts ---
G deploy staging sha-3333333 >"$work/bg" 2>&1 &
bg=$!
# the step's header, once the run holds the lock (the plan printed before names the step too)
for i in $(seq 1 600); do grep -q '^\[[0-9]*/[0-9]*\] run migrator' "$work/bg" && break; sleep 0.05; done
tui_start 140 42 "$GANTRY --config $cfg"
check "gantry opens the run in progress at start" tui_wait 'a run is in progress on staging' 15
check "and its pane counts the run's own time, from the host's records" \
	tui_wait 'running on root@127\.0\.0\.1:[0-9]+ for [0-9]{1,2}s' 15
check "and follows it to the end" tui_wait 'SUCCEEDED: staging runs sha-3333333' 40
wait $bg; bg=
tui_stop

# --- cancel before the switch ---
tui_start 140 42 "$GANTRY --config $cfg"
tui_wait 'production +sha-1111111' 15
tui_keys j p
tui_wait 'promote sha-3333333 staging' 15
tui_wait 'Type its name to confirm' 15
tui_keys p r o d u c t i o n Enter
tui_wait 'running +run migrator' 30
tui_keys c
check "c during the migrator cancels the run" tui_wait 'CANCELLED before the switch' 30
is "$(release_version production)" sha-1111111 "the app was not touched"
tui_stop

# --- at 40x10: the run pane keeps the step the run is at and its state; prompts wrap ---
tui_start 40 10 "$GANTRY --config $cfg"
tui_wait 'production' 15
tui_keys j p
check "at 40x10 the confirmation is whole, wrapped" tui_wait 'name to confirm, Esc to go back: _' 15
like "$(tui_screen)" 'production is protected\. Type its' "(its first row)"
tui_keys p r o d u c t i o n Enter
check "at 40x10 the step running shows, with its number and state" \
	tui_wait '^ +[0-9]/[0-9]+ +running +run migrator' 20
like "$(tui_screen)" 'running on root@127\.0\.0\.1:[0-9]+' "and where it runs"
like "$(tui_screen)" 'c: cancel \(safe until the switch\)' "and the keys, wrapped"
like "$(tui_screen)" 'host\)' "to their last word"
tui_keys c
check "c cancels it there too" tui_wait 'CANCELLED before' 30
tui_stop

# --- another operator's run: c asks for their name first ---
release_build sha-4444444 --migrate-sleep 30 >/dev/null 2>&1 || { echo "Bail out! image"; exit 1; }
GANTRY_OPERATOR=alice@laptop G deploy staging sha-4444444 >"$work/bg" 2>&1 &
bg=$!
for i in $(seq 1 600); do grep -q '^\[[0-9]*/[0-9]*\] run migrator' "$work/bg" && break; sleep 0.05; done
tui_start 140 42 "$GANTRY --read-only --config $cfg"
check "the wallboard shows the run in progress: who, how long, what, its step" \
	tui_wait 'RUNNING by alice@laptop for [0-9]+s: deploy sha-4444444, step [0-9]+/[0-9]+ run migrator for [0-9]+s' 15
tui_stop
tui_start 140 42 "GANTRY_OPERATOR=bob@ops $GANTRY --config $cfg"
check "the run in progress opens, naming who started it" tui_wait 'started by alice@laptop +c: cancel' 15
tui_keys Escape
check "the dashboard's deploys row names the run's step too" \
	tui_wait 'LOCKED by alice@laptop for [0-9]+s: deploy sha-4444444, step [0-9]+/[0-9]+ run migrator' 15
tui_keys a
check "a follows the run again" tui_wait 'started by alice@laptop +c: cancel' 15
tui_keys c
check "c on alice's run asks bob to type her name" \
	tui_wait 'This run was started by alice@laptop\. Type alice@laptop to cancel it, Esc to leave it running: _' 5
tui_keys Escape
check "Esc leaves it running" tui_wait 'the run goes on: nothing was cancelled' 5
check "and the run goes on" tui_wait 'running +run migrator' 15
tui_keys c a l i c e Enter
check "a name that is not hers is refused" tui_wait '"alice" is not "alice@laptop"' 5
tui_keys a l i c e @ l a p t o p Enter
check "her name, typed, cancels the run" tui_wait 'CANCELLED before the switch' 30
wait $bg; bg=
is "$(release_version staging)" sha-3333333 "staging still runs what it ran"
tui_stop

# --- a tag re-pointed between the plan and the confirmation: nothing starts ---
tui_start 140 42 "$GANTRY --config $cfg"
tui_wait 'production +sha-1111111' 15
tui_keys j p
check "the plan of sha-3333333 shows" tui_wait 'promote sha-3333333 staging' 15
tui_wait 'Type its name to confirm' 15
release_build sha-3333333 --migrate-output "rebuilt under the same tag" >/dev/null
tui_keys p r o d u c t i o n Enter
check "the tag re-pointed since the plan is refused at confirmation" \
	tui_wait 'as planned: the tag was re-pointed' 15
like "$(tui_screen)" 'Refused: nothing was started' "and nothing was started"
is "$(release_version production)" sha-1111111 "production is untouched"
tui_stop

# --- an environment of two hosts: the history pane reads both ---
release_fleet || { echo "Bail out! the fleet hosts did not start"; exit 1; }
G deploy fleet sha-1111111 >/dev/null 2>&1
touch "$SSHD_DIR/fleet-2/deploy/refuse-sha-2222222"
G deploy fleet sha-2222222 >/dev/null 2>&1
fd2=$SSHD_DIR/fleet-2/deploy
mkdir "$fd2/.gantry/lock"
printf 'owner=frank@ops\nsince=%s\nrun=x\nmessage=hand deploy\n' "$(date +%s)" >"$fd2/.gantry/lock/owner"
tui_start 140 42 "$GANTRY --config $cfg"
tui_wait 'fleet ' 15
tui_keys j j
check "the dashboard shows a lock held on the second host, and where" \
	tui_wait "deploys +LOCKED on root@$RELEASE_FLEET2 by frank@ops for [0-9]+s: hand deploy" 15
tui_keys h
check "h on an environment of two hosts reads them both" tui_wait 'history of fleet on its 2 hosts' 10
check "the history pane shows the lock with its host" tui_wait "locked on root@$RELEASE_FLEET2 by frank@ops" 10
check "a run that failed on the second host shows as failed" tui_wait 'deploy +sha-2222222 +failed' 10
check "and the selected run says where" \
	tui_wait "recorded on 2 of 2 hosts; the worst: failed on root@$RELEASE_FLEET2" 5
tui_keys j
check "the run both hosts passed says so" tui_wait 'succeeded on all 2 hosts' 5
# a host goes down: its runs go missing, the other's stay, and the pane says which host
sshd_kill fleet-2
tui_keys r
check "with a host down, the history pane says which host was not read" \
	tui_wait "1 of 2 hosts not read, their runs missing below: root@$RELEASE_FLEET2: " 15
check "and still lists the runs of the host that answered" tui_wait 'deploy +sha-1111111 ' 5
sshd_restart fleet-2
tui_keys r
check "when the host is back, the whole history returns" tui_gone 'hosts not read' 20
tui_stop

# --- many hosts at once, in the deploy pane: the first alone, then two at a time ---
release_wave 3 2 || { echo "Bail out! the wave hosts did not start"; exit 1; }
G deploy wave sha-1111111 >/dev/null 2>&1 && G deploy wave sha-2222222 >/dev/null 2>&1 ||
	{ echo "Bail out! the wave deploys"; exit 1; }
tui_start 140 42 "$GANTRY --config $cfg"
tui_wait 'wave ' 15
tui_keys j j j b
check "b on an environment of three hosts opens its history" tui_wait 'history of wave on its 3 hosts' 10
tui_wait 'deploy +sha-1111111 +succeeded' 10
tui_keys j b
check "b on the older run plans a rollback of the three hosts" tui_wait 'rollback wave . sha-1111111' 15
tui_wait 'Enter or y: start' 15
tui_keys Enter
check "the pane says the first host runs alone" \
	tui_wait 'host 1 of 3; 1 running, 0 done, 2 waiting: the first alone, then 2 at a time' 15
check "then the other two at once" tui_wait '2 running, 1 done, 0 waiting' 20
check "the hosts line says where each host stands" \
	tui_wait 'hosts +[^ ]+: succeeded · [^ ]+: (starting|at [a-z]|succeeded) · [^ ]+: (starting|at [a-z]|succeeded)' 20
check "and the rollback succeeds on every host" tui_wait 'SUCCEEDED: wave runs sha-1111111 and is ready' 30
check "every host says succeeded" tui_wait 'hosts +[^ ]+: succeeded · [^ ]+: succeeded · [^ ]+: succeeded$' 5
tui_stop

# --- a run over several hosts left unfinished (its gantry killed on the first host):
# the wallboard says partial and names the hosts left behind; the next dashboard that
# starts opens the run and carries it on; the way across panes still answers ---
"$GANTRY" --config "$cfg" deploy wave sha-2222222 >"$work/wave-killed" 2>&1 &
wpid=$!
wait_for "$work/wave-killed" "\[1/4\] check host" 30
kill -9 $wpid; wait $wpid 2>/dev/null
tui_start 200 42 "$GANTRY --read-only --config $cfg"
check "the wallboard calls the run partial, naming the hosts it did not reach" \
	tui_wait "partial: run [0-9TZ]+-[a-z0-9]+ \(deploy sha-2222222 by [^)]*\) reached 1 of 3 hosts, not reached: root@$RELEASE_WAVE2" 30
tui_stop
tui_start 140 42 "$GANTRY --config $cfg"
check "a dashboard that starts opens the unfinished run and carries it on" \
	tui_wait "a run over wave's hosts was left unfinished: carrying it on" 20
check "to its end on every host" tui_wait 'SUCCEEDED: wave runs sha-2222222 and is ready' 40
tui_keys Escape h
check "its history, read from the three hosts, says succeeded on all of them" \
	tui_wait 'succeeded on all 3 hosts' 15
tui_keys Escape a
check "and a opens the run again, finished" tui_wait 'SUCCEEDED: wave runs sha-2222222' 15
# Esc on the run pane while the first host runs: the dashboard says the run is partial
# once that host is done, and a (attach) carries it on in the same gantry
tui_keys Escape h
tui_wait 'history of wave on its 3 hosts' 10
tui_wait 'deploy +sha-2222222 +succeeded' 10
tui_keys j b
tui_wait 'rollback wave . sha-1111111' 15
tui_wait 'Enter or y: start' 15
tui_keys Enter
tui_wait 'host 1 of 3; 1 running' 15
tui_keys Escape Escape        # the run pane, then the history it was opened from
check "Esc while the first host runs: the dashboard calls the run partial once it is done there" \
	tui_wait 'partial: run [0-9TZ]+-[a-z0-9]+ \(rollback sha-1111111 by [^)]*\) reached 1 of 3' 30
tui_keys a
check "and a carries it on to its end" tui_wait 'SUCCEEDED: wave runs sha-1111111 and is ready' 40
tui_keys Escape
check "the dashboard says how the last run went, without opening the history" \
	tui_wait 'not locked, not frozen · last run: rollback sha-1111111 succeeded, [0-9]+s ago' 15
tui_stop

# --- read-only: no key reaches a write action ---
tui_start 140 42 "$GANTRY --read-only --config $cfg"
tui_wait 'READ-ONLY' 10
tui_keys p
check "read-only refuses promote" tui_wait 'read-only: promote is disabled' 5
tui_keys b
check "and rollback" tui_wait 'read-only: rollback is disabled' 5
tui_stop

# --- the registry stops answering: the title bar says so, on the dashboard and the
# wallboard (promotions and rollbacks would fail) ---
tui_start 140 42 "$GANTRY --config $cfg"
tui_wait 'staging +sha-' 15
unlike "$(tui_screen | head -n 1)" 'REGISTRY DOWN' "with the registry up, no registry warning"
containers_stop_pid "$(cat "$CONTAINERS_DIR/registry/pid")"
tui_keys r
check "the registry down: REGISTRY DOWN in the title bar" tui_wait 'REGISTRY DOWN' 20
tui_stop
tui_start 140 42 "$GANTRY --read-only --config $cfg"
check "and on the wallboard, beside its READ-ONLY badge" tui_wait 'REGISTRY DOWN +READ-ONLY' 20
tui_stop
