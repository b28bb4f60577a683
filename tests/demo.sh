#!/bin/bash
# The demo: builds gantry and opens it on a local release sandbox of real parts on
# loopback: Debian's docker-registry with app and migrator images tagged sha-<commit>,
# podman with docker-compose through its socket, and two OpenSSH hosts (staging-1,
# prod-1), each with its own host key and a compose project in its deploy directory.
# Staging runs a newer tag than production: promote it, watch the migrator and the
# app come up, look at the history, roll back. Quit with q.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
bash tests/deps.sh || exit 1
[ -x configure ] || autoreconf -fi >/dev/null || exit 1
mkdir -p build && cd build || exit 1
[ -f Makefile ] || ../configure -q || exit 1
make -j"$(nproc)" -s gantry || exit 1

export srcdir=$top GANTRY_OPERATOR=${GANTRY_OPERATOR:-$(id -un)@demo}
. "$top/tests/lib/containers.sh"
. "$top/tests/lib/sshd.sh"
. "$top/tests/lib/release.sh"
rm -rf "$PWD/sandbox"
trap 'release_teardown >/dev/null 2>&1' EXIT
echo "gantry demo: starting the registry, podman and two sshd hosts..."
release_setup "$PWD/sandbox" || exit 1
cfg=$PWD/sandbox/gantry.yml
echo "building and pushing four builds (app and migrator images each)..."
release_build sha-1111111 --migrate-output "applying 0041_orders_index" &&
	release_build sha-2222222 --migrate-sleep 1 --migrate-output "applying 0042_invoices" &&
	release_build sha-3333333 --migrate-exit 3 --migrate-output "0043_drop_column: relation in use" &&
	release_build sha-4444444 --no-ready || exit 1
echo "deploying: staging and production on sha-1111111, then staging on sha-2222222..."
./gantry --config "$cfg" deploy staging sha-1111111 >/dev/null &&
	./gantry --config "$cfg" promote staging production --yes >/dev/null &&
	./gantry --config "$cfg" deploy staging sha-2222222 >/dev/null || exit 1

cat <<TXT

gantry demo: staging runs sha-2222222, production sha-1111111 (protected, with
automatic rollback). In gantry:
  j p          select production, plan the promotion of staging's tag
  production   type the name and Enter to confirm; watch the steps and the migrator
  h            production's history; j b on an older run rolls back to its tag
  l, m         the app and migrator logs; ? for every key
From another terminal (HOME names the sandbox's ~/.ssh, which knows the hosts' keys):
  HOME=$HOME $PWD/gantry -c $cfg deploy staging sha-3333333        # the migrator fails
  HOME=$HOME $PWD/gantry -c $cfg deploy production sha-4444444 --yes  # never ready: rolls back
  HOME=$HOME $PWD/gantry -c $cfg history production
  HOME=$HOME $PWD/gantry -r -c $cfg                                  # the read-only wallboard
TXT
[ -t 0 ] && [ -t 1 ] || { echo "(no terminal: not opening the dashboard)"; exit 0; }
sleep 2
./gantry --config "$cfg" "$@"
