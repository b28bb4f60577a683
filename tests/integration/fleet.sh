#!/bin/bash
# A fleet in waves, for real: six tenants on one OpenSSH host (one address, six deploy
# directories), listed in an inventory file, each with its own app (python's http.server
# over the tenant's www/, whose version and ready files its deploy writes), a real registry
# for the digests, and gantry deploy with rollout: waves [1, 50%, 100%], two at once. A
# canary that succeeds; a tenant that refuses the tag in wave 2 (it fails, the rollout
# pauses and, with no terminal to ask, stays paused under its lease: `gantry rollout
# status` shows it, `gantry rollout abort` carries it on and takes every tenant back); a
# failure in the last wave resumed from the terminal (partial); a wave that waits for a
# go; the console's A and R; a console's paused rollout resumed from another terminal,
# and, once that console is killed, carried on by the next gantry; emergency rollbacks.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/containers.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/tui.sh"

work=$(mktemp -d)
pids=
trap 'kill $pids 2>/dev/null; sshd_stop_all; containers_teardown; rm -rf "$work"' EXIT
containers_registry "$work/c" || { echo "Bail out! the registry did not start"; exit 1; }
sshd_setup "$work/ssh" || { echo "Bail out! ssh setup"; exit 1; }
sshd_host tenants >/dev/null && sshd_trust tenants || { echo "Bail out! sshd"; exit 1; }
plan 82

T1=sha-1111111 T2=sha-2222222 T3=sha-3333333
day=1
for t in $T1 $T2 $T3; do
	# a build of its own each: its own creation time, so its own digest
	containers_push_bare shop/app $t 2026-11-0${day}T10:00:00Z >/dev/null &&
		containers_push_bare shop/migrator $t 2026-11-0${day}T09:00:00Z >/dev/null ||
		{ echo "Bail out! images"; exit 1; }
	day=$((day + 1))
done

# six tenants: a deploy directory and an app on a port of its own
port=$(sshd_port tenants)
: >"$work/tenants.txt"
for k in 0 1 2 3 4 5 6; do
	dir=$SSHD_DIR/tenants/t$k
	mkdir -p "$dir/www/api"
	touch "$dir/www/api/health"
	p=$(containers_free_port)
	(cd "$dir/www" && exec /usr/bin/python3 -m http.server "$p" --bind 127.0.0.1 >/dev/null 2>&1) &
	pids="$pids $!"
	echo "$!" >"$dir/app-pid"
	echo "$p" >"$dir/app-port"
	[ $k = 0 ] ||
		echo "root@127.0.0.1:$port deploy_dir=$dir app_url=http://127.0.0.1:$p labels=t$k" >>"$work/tenants.txt"
done
for k in 0 1 2 3 4 5 6; do
	containers_wait_http "http://127.0.0.1:$(cat "$SSHD_DIR/tenants/t$k/app-port")/" 200 \
		"$(cat "$SSHD_DIR/tenants/t$k/app-pid")" ||
		{ echo "Bail out! tenant t$k's app did not start"; exit 1; }
done
config() { # ROLLOUT
	cat >"$work/gantry.yml" <<YAML
project: shop
registry: {url: "http://$REGISTRY", app: shop/app, migrator: shop/migrator}
defaults:
  version: {pointer: ""}
  interval: 1s
  deploy:
    auto_rollback: true
    running: null
    ready_timeout: 3s
    ready_interval: 200ms
    steps:
      - {name: check tenant, run: "test ! -e refuse-{tag} || { echo 'this tenant refuses {tag}'; exit 9; }"}
      - {name: write deploy.env, run: "{gantry} write-env APP_IMAGE={app_image}", switch: true}
      - {name: serve, run: "mkdir -p www/api && echo {tag} >www/api/version && touch www/api/ready"}
environments:
  - name: stage
    url: http://127.0.0.1:$(cat "$SSHD_DIR/tenants/t0/app-port")
    hosts: [{address: "root@127.0.0.1:$port", deploy_dir: "$SSHD_DIR/tenants/t0"}]
  - name: fleet
    url: http://127.0.0.1:$(cat "$SSHD_DIR/tenants/t1/app-port")
    hosts_file: tenants.txt
    rollout: $1
YAML
}
G() { out=$("$GANTRY" --config "$work/gantry.yml" "$@" </dev/null 2>&1); rc=$?; }
# on the dashboard (fleet selected), p: stage's tag planned into the fleet, started, and
# followed until the rollout pauses at its go; true when it did
promote_until_go() {
	tui_keys p
	tui_wait "promote $T3 stage . fleet" 15 && tui_wait "Enter or y: start" 15 || return 1
	tui_keys Enter
	tui_wait "PAUSED, wave 2 of 3 is done" 30
}
versions() { for k in 1 2 3 4 5 6; do cat "$SSHD_DIR/tenants/t$k/www/api/version" 2>/dev/null || echo none; done | tr '\n' ' '; }
all_on() { printf '%s ' "$1" "$1" "$1" "$1" "$1" "$1"; }

config "{waves: [1, 50%, 100%], parallel: 2}"
G deploy fleet $T1 --yes
is "$rc" 0 "the first deploy over the six tenants succeeds (exit $rc)" || diag "$out"
is "$(versions)" "$(all_on $T1)" "every tenant serves $T1"

# a canary: wave by wave, the tenants named scp-style (one address, six directories)
G deploy fleet $T2 --yes
is "$rc" 0 "a canary rollout of $T2 succeeds" || diag "$out"
like "$out" "  waves     3: 1 host, then 2, then 3; 2 at a time; no failure in a wave" \
	"the plan says the waves"
like "$(printf '%s' "$out" | tr '\n' ' ')" "== wave 1 of 3.*== wave 2 of 3.*== wave 3 of 3" \
	"it goes wave by wave (1, then 2, then 3)"
like "$out" "root@127\.0\.0\.1:$port:$SSHD_DIR/tenants/t1" "a tenant is named by its address and directory"
is "$(versions)" "$(all_on $T2)" "every tenant serves $T2"
first=$(printf '%s\n' "$out" | grep -n 'tenants/t1' | head -n 1 | cut -d: -f1)
second=$(printf '%s\n' "$out" | grep -n 'tenants/t[23]' | head -n 1 | cut -d: -f1)
ok_if() { if eval "$1"; then ok "$2"; else not_ok "$2"; diag "$out"; fi; }
ok_if '[ "${first:-999}" -lt "${second:-0}" ]' "the canary's output comes before wave 2's"

# wave 2's t3 refuses T3: it fails, the rollout pauses; no terminal: it stays paused
touch "$SSHD_DIR/tenants/t3/refuse-$T3"
G deploy fleet $T3 --yes
is "$rc" 9 "a failure in wave 2 with no terminal to ask leaves the rollout paused (exit $rc)"
like "$out" "== paused: wave 2 of 3: 1 host failed, more than the 0 it may: [^ ]*tenants/t3 \(failed\)" \
	"the rollout pauses, naming the tenant that failed"
like "$out" "no terminal to ask whether it goes on: the rollout stays paused under its lease; \`gantry rollout resume fleet\` or \`gantry rollout abort fleet\`" \
	"with no terminal, it stays paused and says what decides"
G rollout status fleet
like "$out" "^fleet: rollout [^ ]+ \(deploy $T3, by [^)]*\), wave 2 of 3: left" \
	"rollout status: which rollout, its wave, and that nobody drives it" || diag "$out"
like "$out" "wave 2  2 hosts: 1 took, 1 failed" "each wave's hosts, by how they stand"
like "$out" "wave 3  3 hosts: not started" "and the waves not started"
like "$out" "hosts   4 run $T2, 2 run $T3" "the tags the tenants run"
like "$out" "failed  root@127\.0\.0\.1:$port:[^ ]*/tenants/t3 \(wave 2\)" "and the tenant that failed"
G status
like "$out" "fleet .*rollout [^ ]+ \(deploy $T3\): LEFT in wave 2 of 3, no gantry drives it; 2 of 6 hosts took $T3, 1 failed" \
	"gantry status names the rollout left, never a plain partial run" || diag "$out"
out=$("$GANTRY" --config "$work/gantry.yml" rollout status fleet --json | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
r = d["rollout"]
print(r["state"], r["wave"], r["waves"], r["driver"], [h["state"] for h in d["hosts"]])')
is "$out" "left 2 3 None ['took', 'took', 'failed', 'waiting', 'waiting', 'waiting']" \
	"rollout status --json: the same, per tenant"
G rollout pause fleet
like "$out" "no gantry drives run [^ ]+, so nothing starts: it stands as it was left, in wave 2 of 3" \
	"pause with nobody driving: it stands as it was left (exit $rc)"
G rollout abort fleet -m "t3 refuses"
like "$out" "carrying on run [^ ]+ \(deploy $T3 by" "abort with nobody driving: this gantry carries it on" || diag "$out"
like "$out" "aborted in wave 2 of 3: the 2 hosts that had taken $T3 went back to $T2" \
	"the tenants that had moved go back, and the run says so"
is "$(versions)" "$(all_on $T2)" "every tenant serves $T2 again"
is "$(cat "$SSHD_DIR/tenants/t4/www/api/version")" $T2 "wave 3 never started"
G rollout status fleet
like "$out" "^fleet: no rollout in waves holds it" "and no rollout holds the fleet any more"
G history fleet --json
like "$(printf '%s' "$out" | tr -s ' \n' ' ')" "\"id\": \"[^\"]*-back\", \"action\": \"rollback\", \"result\": \"succeeded\", .*\"hosts\": 2, .*\"action\": \"deploy\", \"result\": \"failed\", .*\"tag\": \"$T3\"" \
	"the history records the deploy failed, and the way back of the two tenants that had moved"

# in the last wave t5 refuses: from a terminal, resume: the rest go on, t5 stays behind
rm -f "$SSHD_DIR/tenants/t3/refuse-$T3"
touch "$SSHD_DIR/tenants/t5/refuse-$T3"
out=$(printf 'resume\n' | script -qec "$GANTRY --config $work/gantry.yml deploy fleet $T3 --yes" /dev/null 2>&1)
rc=$?
like "$out" "== paused: wave 3 of 3: 1 host failed" "a failure in the last wave pauses"
like "$out" "resume \(the failed hosts stay as they are\) or abort" "and asks on the terminal"
like "$out" "== resumed" "resume goes on"
like "$out" "partial: 5 of 6 hosts run $T3; not: [^ ]*tenants/t5" "the run ends partial, naming t5"
isnt "$rc" 0 "partial is not success (exit $rc)"
is "$(versions)" "$T3 $T3 $T3 $T3 $T2 $T3 " "t5 stays on $T2, every other tenant serves $T3"

# a wave that waits for a go
rm -f "$SSHD_DIR/tenants/t5/refuse-$T3"
config "{waves: [1, {size: 50%, pause: true}, 100%], parallel: 3}"
out=$(printf 'resume\n' | script -qec "$GANTRY --config $work/gantry.yml deploy fleet $T2 --yes" /dev/null 2>&1)
rc=$?
like "$out" "== paused: wave 2 of 3 is done \(3 hosts run $T2\): the next starts on an operator's go" \
	"a wave with pause: true waits for a go"
is "$rc" 0 "and, resumed, the rollout succeeds (exit $rc)" || diag "$out"
is "$(versions)" "$(all_on $T2)" "every tenant serves $T2"

# gantry check reads the inventory and names each tenant
G check
like "$out" "tenants/t6" "gantry check goes over the inventory's tenants too"

# from the console: promote stage's tag into the fleet; it pauses at the go; A aborts
# (typed), then the same again, resumed with R
G deploy stage $T3 --yes
is "$rc" 0 "stage runs $T3" || diag "$out"
tui_start 140 42 "$GANTRY --config $work/gantry.yml"
tui_wait 'fleet +.*'"$T2" 15
tui_keys j
check "p on the fleet plans stage's tag, in waves, and pauses at the wave that asks for a go" \
	promote_until_go
like "$(tui_screen)" "R: resume .*A: abort" "and offers R and A"
tui_keys A
tui_wait "Type abort to do it" 5
tui_keys a b o r t Enter
check "A, then abort typed: the hosts that moved go back" \
	tui_wait "ABORTED in wave 2 of 3: every host that took $T3 went back, fleet runs $T2 again" 30
like "$(tui_screen)" "aborted in wave 2 of 3: the 3 hosts that had taken $T3 went back to $T2, newest wave first" \
	"the pane says how many went back, newest wave first"
is "$(versions)" "$(all_on $T2)" "every tenant serves $T2 again"
tui_keys Escape
tui_wait 'fleet +.*'"$T2" 15
check "the fleet's detail says where all its tenants stand, tag by tag" tui_wait "2 more; all 6: $T2 on 6" 15
like "$(tui_screen)" "root@127…[^ ]*/tenants/t4 +up" "a tenant's name keeps its end when it is cut"
promote_until_go
tui_keys R
check "R resumes: the rollout succeeds" tui_wait "SUCCEEDED: fleet runs $T3 and is ready" 30
tui_stop

# the incident's one action: every tenant back to the last tag healthy on all, at once
G emergency-rollback fleet -m "checkout is down" --yes
is "$rc" 0 "an emergency rollback succeeds (exit $rc)" || diag "$out"
like "$out" "EMERGENCY every one of its 6 hosts at once, whatever its waves; reason: checkout is down" \
	"its plan says every host at once, and why"
is "$(versions)" "$(all_on $T2)" "every tenant serves $T2 again"
G history fleet --json
like "$(printf '%s' "$out" | tr -s ' \n' ' ')" "\"action\": \"rollback\", \"result\": \"succeeded\", .*\"message\": \"checkout is down\"" \
	"the history records the rollback with its reason"

# a rollout left paused by a console that quit: the emergency rollback stops it first
tui_start 140 42 "$GANTRY --config $work/gantry.yml"
tui_wait 'fleet +.*'"$T2" 15
tui_keys j
promote_until_go
tui_keys C-c
tui_wait_exit 10 >/dev/null
tui_stop
G emergency-rollback fleet -m "bad canary" --yes
is "$rc" 0 "over a paused rollout, the emergency rollback succeeds (exit $rc)" || diag "$out"
like "$out" "! the lock of run [^ ]+ \(promote $T3 from stage, by [^)]*\) is broken first on every host, noted in the history: no step of it runs" \
	"its plan says the paused rollout's lock is broken first"
G history fleet
like "$out" "unlock +- +- +- +[^ ]+ +emergency rollback: bad canary" "and the history notes it, with the reason"
is "$(versions)" "$(all_on $T2)" "every tenant serves $T2"

# a console drives a rollout, paused at its go: another terminal sees it, and resumes it
tui_start 140 42 "$GANTRY --config $work/gantry.yml"
tui_wait 'fleet +.*'"$T2" 15
tui_keys j
promote_until_go
# (the driver's record says paused with its next beat: a second at most, waited for)
for try in 1 2 3 4 5 6 7 8 9 10; do
	out=$("$GANTRY" --config "$work/gantry.yml" rollout status fleet --json | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)["rollout"]
print(r["state"], r["wave"], r["driver"] is not None, r["paused_why"])')
	case $out in paused*) break ;; esac
	sleep 1
done
like "$out" "^paused 2 True wave 2 of 3 is done" "rollout status --json: paused by its driver, the console, and why"
G status
like "$out" "fleet .*rollout [^ ]+ \(promote $T3\): PAUSED in wave 2 of 3 by [^ ]+'s gantry: wave 2 of 3 is done" \
	"gantry status says who paused it, and why" || diag "$out"
# the fleet pane over the run pane (which still drives it): every tenant with its wave,
# tag and state; ordered, filtered; R there asks the driver, this very console
tui_keys F
check "F opens the fleet pane: the rollout paused by this console, and the tags" \
	tui_wait "PAUSED in wave 2 of 3 by [^ ]+'s gantry" 10
like "$(tui_screen)" "tags: 3 on ($T3|$T2), 3 on ($T2|$T3)" "the pane counts the tenants on each tag"
like "$(tui_screen)" "tenants/t3 +2 +$T3 +took +up" "each tenant's row: wave, tag, state, link"
like "$(tui_screen)" "tenants/t6 +3 +$T2 +waiting" "and the ones not reached"
tui_keys '&' t 5 Enter
check "& filters the rows" tui_wait "filter: t5" 5
unlike "$(tui_screen)" "tenants/t6 " "(only t5 is left)"
tui_keys '&' Enter o
check "o orders them another way" tui_wait "order: state" 5
tui_keys R
check "R in the fleet pane asks the driver, which resumes: wave 3 runs" \
	tui_wait "asked [^ ]+'s gantry to resume|driven by [^ ]+'s gantry; [0-9] of 6 hosts took|no rollout in waves holds fleet" 15
check "and the rollout ends: every tenant on $T3" tui_wait "tags: 6 on $T3" 30
check "and no rollout holds the fleet any more" tui_wait "no rollout in waves holds fleet" 15
tui_keys Escape
check "under it, the run pane: the rollout succeeded" \
	tui_wait "SUCCEEDED: fleet runs $T3 and is ready" 30
tui_stop
is "$(versions)" "$(all_on $T3)" "every tenant serves $T3"

# another terminal asks the console that drives a paused rollout; then the console is
# killed, and the next gantry carries the rollout on once its driver is quiet
G deploy stage $T2 --yes
tui_start 140 42 "$GANTRY --config $work/gantry.yml"
tui_wait 'fleet +.*'"$T3" 15
tui_keys j p
tui_wait "promote $T2 stage . fleet" 15 && tui_wait "Enter or y: start" 15
tui_keys Enter
tui_wait "PAUSED, wave 2 of 3 is done" 30
G rollout pause fleet -m "hold on"
is "$rc" 0 "rollout pause asks the console that drives it, which answers (exit $rc)" || diag "$out"
like "$out" "asked [^ ]+'s gantry, which drives run [^ ]+, to pause; waiting for its answer" \
	"it says whom it asked"
like "$out" "wave 2 of 3: paused" "and prints where the rollout stands"
kill -KILL "$(pgrep -P "$(tui_tmux display-message -p -t t '#{pane_pid}')" -f "$GANTRY" | head -n 1)"
tui_stop
tui_start 140 42 "$GANTRY --read-only --config $work/gantry.yml"
check "the wallboard shows the fleet's rollout, where it stands, never a plain READY" \
	tui_wait "READY, wave 2 of 3 (paused|left), 3 of 6 took $T2" 15
like "$(tui_screen)" "rollout [^ ]+ \(promote $T2\)" "and the rollout's sentence"
tui_stop
G rollout resume fleet
is "$rc" 0 "rollout resume, its console killed: it waits for the driver's beat to go stale, then carries it on (exit $rc)" ||
	diag "$out"
like "$out" "went quiet without answering: nothing drives run [^ ]+ now" "it says the driver went quiet"
like "$out" "fleet: promote $T2: succeeded" "and the rollout ends"
is "$(versions)" "$(all_on $T2)" "every tenant serves $T2"

# from the console: E asks why, then the plan, confirmed by the environment's name
tui_start 140 42 "$GANTRY --config $work/gantry.yml"
tui_wait 'fleet +.*'"$T2" 15
tui_keys j E
check "E asks for the reason first" tui_wait "EMERGENCY ROLLBACK of fleet: every host at once" 10
tui_keys Enter
check "an empty reason is refused" tui_wait "an emergency rollback needs its reason" 5
tui_keys Escape
check "Esc gives up" tui_wait "no emergency rollback: nothing happened" 5
tui_keys E
tui_wait "EMERGENCY ROLLBACK of fleet: every host at once" 10
tui_keys d b ' ' d o w n Enter
check "the reason typed, the plan asks for the environment's name" \
	tui_wait "EMERGENCY ROLLBACK of every host of fleet at once. Type its name to confirm" 15
like "$(tui_screen)" "emergency +EMERGENCY: every one of its 6 hosts at once; why: db down" "the plan says why"
tui_keys f l e e t Enter
check "confirmed: every tenant goes back at once" tui_wait "SUCCEEDED: fleet runs $T3 and is ready" 30
is "$(versions)" "$(all_on $T3)" "every tenant serves $T3, the newest tag healthy on all but $T2"
tui_stop

