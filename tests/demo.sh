#!/bin/bash
# The demo: builds gantry and opens it on the local sandbox, two real HTTP app
# servers on loopback (staging and production) and three real OpenSSH hosts (one
# for staging, two for production) with deploy.env files and growing logs. While it runs, the sandbox changes
# by itself every few seconds: production goes not ready and comes back, staging
# gets a new tag, so the dashboard has something to show. Quit with q.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
bash tests/deps.sh || exit 1
[ -x configure ] || autoreconf -fi >/dev/null || exit 1
mkdir -p build && cd build || exit 1
[ -f Makefile ] || ../configure -q || exit 1
make -j"$(nproc)" -s gantry tests/sandbox/appserver || exit 1

export APPSERVER=$PWD/tests/sandbox/appserver
. "$top/tests/lib/sandbox.sh"
. "$top/tests/lib/sshd.sh"
rm -rf "$PWD/sandbox"
SANDBOX_INTERVAL=2s SANDBOX_TIMEOUT=1500ms sandbox_start "$PWD/sandbox" || exit 1
SANDBOX_INTERVAL=2s SANDBOX_TIMEOUT=1500ms sandbox_hosts || exit 1
sandbox_log prod-1 migrator "$(printf '\033[36mmigrator_1 |\033[0m applying 0041_orders_index')" \
	"$(printf '\033[36mmigrator_1 |\033[0m migrations done')"

# the sandbox's own life: a failing readiness check, a new build reaching staging
(
	tags="sha-4e1d2c9 sha-7c2a9e4 sha-b51f0d3"
	while sleep 12; do
		sandbox_set production 'ready=0'
		sleep 10
		sandbox_set production 'ready=1'
		sleep 8
		set -- $tags
		sandbox_set staging "version=$2"
		sandbox_deploy_env staging-1 "$2"
		tags="$2 $3 $1"
	done
) >/dev/null 2>&1 &
flipper=$!
# the apps' logs, a line or two a second, coloured as compose colours them
(
	n=0
	while sleep 0.7; do
		n=$((n + 1))
		sandbox_log staging-1 app "$(printf '\033[33mapp_1  |\033[0m GET /api/orders/%d 200 %dms' $n $((n % 90)))"
		sandbox_log prod-1 app "$(printf '\033[32mapp_1  |\033[0m GET /api/ready 200 %dms' $((n % 7)))"
		[ $((n % 3)) -eq 0 ] && sandbox_log prod-2 app "$(printf '\033[32mapp_1  |\033[0m POST /api/checkout 201 %dms' $((n % 40)))"
	done
) >/dev/null 2>&1 &
writer=$!
trap 'kill $flipper $writer 2>/dev/null; sshd_stop_all; sandbox_stop' EXIT

cat <<TXT
gantry demo: staging on port $(sandbox_port staging), production on port $(sandbox_port production).
Flip them yourself from another terminal, for example:
  curl '127.0.0.1:$(sandbox_port production)/_sandbox/set?ready=0'     # not ready (503)
  curl '127.0.0.1:$(sandbox_port production)/_sandbox/set?mode=hang'   # hangs: timeout
  curl '127.0.0.1:$(sandbox_port production)/_sandbox/set?mode=ok&ready=1'
Modes: ok slow error garbage hang trickle redirect html huge close.
The read-only wallboard of the same sandbox, from another terminal (HOME names the
sandbox's ~/.ssh, which knows the hosts' keys):
  HOME=$HOME build/gantry -r -c build/sandbox/gantry.yml

SSH hosts (real sshd, each with its own host key): staging-1 on port $(sshd_port staging-1),
prod-1 on $(sshd_port prod-1), prod-2 on $(sshd_port prod-2). In gantry: select an environment,
l opens its app log, m its migrator log (/ search, & filter, f pause, w wrap, Esc closes).
To watch a log pane lose a host and resume, from another terminal (the listener and
the sessions it serves):
  pkill -9 -P \$(cat $SSHD_DIR/prod-1/pid); kill \$(cat $SSHD_DIR/prod-1/pid)
  /usr/sbin/sshd -D -e -f $SSHD_DIR/prod-1/sshd_config &
TXT
[ -t 0 ] && [ -t 1 ] || { echo "(no terminal: not opening the dashboard)"; exit 0; }
sleep 2
./gantry --config "$PWD/sandbox/gantry.yml" "$@"
