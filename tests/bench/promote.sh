#!/bin/bash
# make bench, part 3: a deploy through gantry against the same steps run by a shell
# script over the OpenSSH client, on the real release sandbox (registry, podman with
# docker-compose, sshd). Each round deploys the other of two tags, so every run pulls,
# migrates and restarts for real. Prints the medians and gantry's overhead.
set -u
: "${GANTRY:?}" "${srcdir:?}"
rounds=${BENCH_ROUNDS:-5}
. "$srcdir/tests/lib/containers.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/release.sh"

work=$(mktemp -d /tmp/gantry-bench-promote.XXXXXX)
trap 'release_teardown >/dev/null 2>&1; rm -rf "$work"' EXIT
release_setup "$work" >/dev/null || { echo "bench: the release sandbox did not start" >&2; exit 1; }
cfg=$work/gantry.yml
release_build sha-aaaaaaa && release_build sha-bbbbbbb || exit 1
dir=$(release_dir staging)
port=$RELEASE_STAGING_PORT
compose="DOCKER_HOST=$DOCKER_HOST docker-compose -p staging --env-file deploy.env"
"$GANTRY" --config "$cfg" deploy staging sha-bbbbbbb >/dev/null 2>&1 || { echo "bench: first deploy failed" >&2; exit 1; }

# what a careful shell script does: the same steps, digests resolved with curl first
script() { # TAG
	local app mig
	app=$(containers_digest shop/app "$1") mig=$(containers_digest shop/migrator "$1")
	cat <<SH
set -e
cd $dir
{ grep -v '^APP_IMAGE=\|^MIGRATOR_IMAGE=\|^APP_PORT=' deploy.env || true
  echo APP_IMAGE=$REGISTRY/shop/app:$1@$app
  echo MIGRATOR_IMAGE=$REGISTRY/shop/migrator:$1@$mig
  echo APP_PORT=$port; } >deploy.env.tmp
cp deploy.env deploy.env.prev; mv deploy.env.tmp deploy.env
$compose config -q
$compose pull app migrator
$compose up --no-deps --no-color --exit-code-from migrator migrator
$compose up -d --no-deps app
t=0; until curl -fs -o /dev/null http://127.0.0.1:$port/api/ready; do t=\$((t + 1)); [ \$t -lt 120 ] || exit 1; sleep 1; done
SH
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

ssh_port=$(sshd_port staging-1)
: >"$work/ssh.times"
: >"$work/gantry.times"
for r in $(seq 1 "$rounds"); do
	for tag in sha-aaaaaaa sha-bbbbbbb; do
		t0=$(date +%s%N)
		script "$tag" | ssh -o BatchMode=yes -o UserKnownHostsFile="$HOME/.ssh/known_hosts" -i "$HOME/.ssh/id_ed25519" \
		    -p "$ssh_port" root@127.0.0.1 sh -s >"$work/ssh.out" 2>&1 ||
			{ echo "bench: the ssh script failed:" >&2; tail -5 "$work/ssh.out" >&2; exit 1; }
		secs "$t0" "$(date +%s%N)" >>"$work/ssh.times"
		[ -n "${BENCH_VERBOSE:-}" ] && tail -n 1 "$work/ssh.times"
	done
	for tag in sha-aaaaaaa sha-bbbbbbb; do
		t0=$(date +%s%N)
		"$GANTRY" --config "$cfg" deploy staging "$tag" >"$work/gantry.out" 2>&1 ||
			{ echo "bench: gantry deploy failed" >&2; exit 1; }
		secs "$t0" "$(date +%s%N)" >>"$work/gantry.times"
		[ -n "${BENCH_VERBOSE:-}" ] && { tail -n 1 "$work/gantry.times"; grep -E '^\[|ok in' "$work/gantry.out" | paste - - ; }
	done
done
s=$(median <"$work/ssh.times")
g=$(median <"$work/gantry.times")
echo
echo "gantry bench: a deploy (resolve, write deploy.env, config, pull, migrate, start, ready), $((rounds * 2)) each"
printf '  shell script over OpenSSH (curl for digests)  median %6.3f s  (min %s, max %s)\n' "$s" \
	"$(sort -n "$work/ssh.times" | head -n 1)" "$(sort -n "$work/ssh.times" | tail -n 1)"
printf '  gantry deploy (checks, lock, history, follow)   median %6.3f s  (min %s, max %s)\n' "$g" \
	"$(sort -n "$work/gantry.times" | head -n 1)" "$(sort -n "$work/gantry.times" | tail -n 1)"
awk -v s="$s" -v g="$g" 'BEGIN {
	limit = s * 1.05 + 0.3
	printf "  gantry / script                                 %6.2fx   (target: <= 1.05x + 0.3 s = %.3f s: %s)\n",
	    g / s, limit, g <= limit ? "met" : "NOT met"
}'
