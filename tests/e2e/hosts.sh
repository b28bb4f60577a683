#!/bin/bash
# The dashboard with SSH hosts: deployed tags from deploy.env, drift, host states.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/tui.sh"

tui_sandbox_setup hosts

plan 7
tui_start 130 34 "$GANTRY --config $work/gantry.yml"
check "deploy.env's tag and the hosts show" tui_wait 'production +sha-8b03f7a .* sha-8b03f7a +● 2/2 up' 15
tui_keys j
check "the detail pane lists each host with what it has deployed" \
	tui_wait "root@127.0.0.1:$(sshd_port prod-2) +up +deploy.env: app sha-8b03f7a, migrator sha-8b03f7a" 10

# a host that deployed something else: the environment's hosts disagree
sandbox_deploy_env prod-2 sha-1111111
check "hosts that disagree are flagged" tui_wait 'production .* ! hosts differ' 15
like "$(tui_screen)" "hosts disagree: root@127.0.0.1:$(sshd_port prod-1) has sha-8b03f7a, root@127.0.0.1:$(sshd_port prod-2) has sha-1111111" \
	"and the detail pane says which"
# deploy.env agrees across hosts but not with what the app reports
sandbox_deploy_env prod-1 sha-1111111
check "deploy.env against the running app is flagged" \
	tui_wait 'deploy.env names sha-1111111 but the app reports sha-8b03f7a' 15

# sshd killed: the host shows as unreachable, retrying
sshd_kill prod-2
check "a dead host shows, with its retry" tui_wait "$(sshd_port prod-2) +unreachable, retry in [0-9]+s" 20
tui_keys q
is "$(tui_wait_exit 10)" 0 "q quits"
done_testing
