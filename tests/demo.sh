#!/bin/bash
# The demo: builds gantry and opens it on the local sandbox, two real HTTP app
# servers on loopback (staging and production). While it runs, the sandbox changes
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
SANDBOX_INTERVAL=2s SANDBOX_TIMEOUT=1500ms sandbox_start "$PWD/sandbox" || exit 1

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
		tags="$2 $3 $1"
	done
) >/dev/null 2>&1 &
flipper=$!
trap 'kill $flipper 2>/dev/null; sandbox_stop' EXIT

cat <<TXT
gantry demo: staging on port $(sandbox_port staging), production on port $(sandbox_port production).
Flip them yourself from another terminal, for example:
  curl '127.0.0.1:$(sandbox_port production)/_sandbox/set?ready=0'     # not ready (503)
  curl '127.0.0.1:$(sandbox_port production)/_sandbox/set?mode=hang'   # hangs: timeout
  curl '127.0.0.1:$(sandbox_port production)/_sandbox/set?mode=ok&ready=1'
Modes: ok slow error garbage hang trickle redirect html huge close.
The read-only wallboard of the same sandbox: build/gantry -r -c build/sandbox/gantry.yml
TXT
[ -t 0 ] && [ -t 1 ] || { echo "(no terminal: not opening the dashboard)"; exit 0; }
sleep 2
./gantry --config "$PWD/sandbox/gantry.yml" "$@"
