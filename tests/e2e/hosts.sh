#!/bin/bash
# The dashboard with SSH hosts: deployed tags from deploy.env, drift, host states.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/tui.sh"

tui_sandbox_setup hosts

plan 22
tui_start 130 34 "$GANTRY --config $work/gantry.yml"
check "deploy.env's tag and the hosts show" tui_wait 'production +sha-8b03f7a .* sha-8b03f7a +● 2/2 up' 15
tui_keys j
check "the detail pane lists each host with what it has deployed" \
	tui_wait "root@127.0.0.1:$(sshd_port prod-2) +up +deploy.env: app sha-8b03f7a, migrator sha-8b03f7a" 10

# a host that deployed something else: the environment's hosts disagree
sandbox_deploy_env prod-2 sha-1111111
check "hosts that disagree are flagged" tui_wait 'production .* ! hosts differ' 15
like "$(tui_screen | tr -s ' \n' ' ')" "hosts run different tags: root@127.0.0.1:$(sshd_port prod-1)'s deploy.env names sha-8b03f7a, root@127.0.0.1:$(sshd_port prod-2)'s names sha-1111111" \
	"and the detail pane says which"
tui_stop
tui_start 130 34 "$GANTRY --read-only --config $work/gantry.yml"
check "the wallboard's production tile says the hosts differ, in the same words" \
	tui_wait "! hosts run different tags: root@127.0.0.1:$(sshd_port prod-1)'s deploy.env names sha-8b03f7a" 15
tui_stop
tui_start 130 34 "$GANTRY --config $work/gantry.yml"
tui_keys j
# deploy.env agrees across hosts but not with what the app reports
sandbox_deploy_env prod-1 sha-1111111
check "deploy.env against the running app is flagged" \
	tui_wait 'deploy.env names sha-1111111 but the app reports sha-8b03f7a' 15

# each host with an app of its own (app_url, asked on the host): what each one runs
tui_keys q
tui_wait_exit 10 >/dev/null
tui_stop
sandbox_app "$SANDBOX_DIR" prod1app sha-8b03f7a && sandbox_app "$SANDBOX_DIR" prod2app sha-1111111 ||
	{ echo "Bail out! the hosts' apps"; exit 1; }
sandbox_deploy_env prod-1 sha-8b03f7a
sandbox_deploy_env prod-2 sha-8b03f7a
sed -e "s|^\(        deploy_dir: .*/prod-1/deploy\)$|\1\n        app_url: http://127.0.0.1:$(sandbox_port prod1app)|" \
	-e "s|^\(        deploy_dir: .*/prod-2/deploy\)$|\1\n        app_url: http://127.0.0.1:$(sandbox_port prod2app)|" \
	"$work/gantry.yml" >"$work/apps.yml"
p1="root@127.0.0.1:$(sshd_port prod-1)"
p2="root@127.0.0.1:$(sshd_port prod-2)"
tui_start 130 34 "$GANTRY --config $work/apps.yml"
tui_keys j
check "hosts whose own apps report different tags are flagged, though deploy.env agrees" \
	tui_wait "hosts run different tags: $p1 runs sha-8b03f7a, $p2 runs sha-1111111" 15
check "the host's line says what its app reports" \
	tui_wait "$p2 +up +deploy.env names sha-8b03f7a; its app reports sha-1111111" 10
like "$(tui_screen)" 'production .* ! hosts differ' "and the table row is marked"
out=$("$GANTRY" --config "$work/apps.yml" status --json)
like "$(printf '%s' "$out" | tr -d ' \n')" '"deployed":"sha-8b03f7a","drift":"hosts","drift_detail":"hostsrundifferenttags:[^"]*","hosts":\[\{"address":"'"$p1"'","deployed":"sha-8b03f7a","app_version":"sha-8b03f7a","services":\[[^]]*\],"services_error":null,"error":null\},\{"address":"'"$p2"'","deployed":"sha-8b03f7a","app_version":"sha-1111111"' \
	"status --json says the same, per host"
like "$("$GANTRY" --config "$work/apps.yml" status)" "production .*hosts run different tags: $p1 runs sha-8b03f7a, $p2 runs sha-1111111" \
	"and status in the same words"
# a services listing that fails: no drift is claimed about what was never listed
sed 's|^  logs:$|  deploy:\n    running: echo "not a listing" >\&2; exit 3\n  logs:|' "$work/gantry.yml" >"$work/running.yml"
out=$("$GANTRY" --config "$work/running.yml" status 2>&1)
is "$?" 1 "status with a services listing that failed exits 1"
like "$out" "staging .*services not listed on 1 of 1 host: root@127.0.0.1:$(sshd_port staging-1): deploy\.running failed on the host \(exit 3\)" \
	"and its DETAIL says where and why, never a silent \"no drift\""
tui_stop
tui_start 130 34 "$GANTRY --config $work/gantry.yml"
tui_keys j
tui_wait "$(sshd_port prod-2) +up" 15

# sshd killed: the host shows as unreachable, retrying
sshd_kill prod-2
check "a dead host shows, with its retry" tui_wait "$(sshd_port prod-2) +unreachable, retry in [0-9]+s" 20
# the only host of an environment dead: its lock is not known, and the pane says so
sshd_kill staging-1
tui_keys k
check "a lock that cannot be read is said to be unknown, not read for ever" \
	tui_wait "deploys +lock and freeze not known: root@127.0.0.1:$(sshd_port staging-1) cannot be read" 20
# at 80x24 the HOSTS column is dropped: an unreachable host still marks its row
tui_resize 80 24
check "a problem in a dropped column still marks the row" tui_wait '^.! +production ' 10
unlike "$(tui_screen)" 'HOSTS' "(the HOSTS column is not shown at 80 columns)"
tui_keys q
is "$(tui_wait_exit 10)" 0 "q quits"
# status never says "ok" about hosts it could not read: text, JSON and exit status
out=$("$GANTRY" --config "$work/gantry.yml" status 2>&1)
is "$?" 1 "status with hosts that cannot be read exits 1"
like "$out" "production .*1 of 2 hosts not read: root@127.0.0.1:$(sshd_port prod-2): " \
	"and its DETAIL says which host was not read and why"
out=$("$GANTRY" --config "$work/gantry.yml" status --json 2>&1)
like "$(printf '%s' "$out" | tr -d '\n')" '"ok": false' "status --json is not ok"
like "$(printf '%s' "$out" | tr -d '\n')" '"address": "root@127.0.0.1:'"$(sshd_port prod-2)"'",[^}]*"error": "[^"]+"' \
	"and gives the unread host's error"
done_testing
