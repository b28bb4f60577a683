#!/bin/bash
# make bench, part 3: a deploy through gantry against the same steps run by a shell
# script over the OpenSSH client, on the real release sandbox (registry, podman with
# docker-compose, sshd). Each round deploys the other of two tags, so every run pulls,
# migrates and restarts for real. Prints the medians and gantry's overhead.
#
# Every run counts. The migrator step's time is checked all the same: over 10 s means
# docker-compose waited on podman's /wait for its 20 s conmon timeout, which
# tests/lib/containers.sh's short runroot removed at its cause (see there).
set -u
: "${GANTRY:?}" "${srcdir:?}"
rounds=${BENCH_ROUNDS:-5}
. "$srcdir/tests/lib/containers.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/release.sh"

work=$(mktemp -d /tmp/gantry-bench-promote.XXXXXX)
trap '[ -n "${BENCH_KEEP_EVENTS:-}" ] && cp "$CONTAINERS_DIR/run/events.log" "$BENCH_KEEP_EVENTS"; release_teardown >/dev/null 2>&1; rm -rf "$work"' EXIT
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
m0=\$(date +%s%N)
$compose up --no-deps --no-color --exit-code-from migrator migrator
echo MIGRATOR_MS=\$(( (\$(date +%s%N) - m0) / 1000000 ))
$compose up -d --no-deps app
t=0; until curl -fs -o /dev/null http://127.0.0.1:$port/api/ready; do t=\$((t + 1)); [ \$t -lt 120 ] || exit 1; sleep 1; done
SH
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

ssh_port=$(sshd_port staging-1)
: >"$work/ssh.times"
: >"$work/gantry.times"
: >"$work/ssh.stalled"
: >"$work/gantry.stalled"
: >"$work/gantry.outside"
for r in $(seq 1 "$rounds"); do
	for tag in sha-aaaaaaa sha-bbbbbbb; do
		t0=$(date +%s%N)
		script "$tag" | ssh -o BatchMode=yes -o UserKnownHostsFile="$HOME/.ssh/known_hosts" -i "$HOME/.ssh/id_ed25519" \
		    -p "$ssh_port" root@127.0.0.1 sh -s >"$work/ssh.out" 2>&1 ||
			{ echo "bench: the ssh script failed:" >&2; tail -5 "$work/ssh.out" >&2; exit 1; }
		t=$(secs "$t0" "$(date +%s%N)")
		m=$(sed -n 's/^MIGRATOR_MS=//p' "$work/ssh.out")
		echo "$t" >>"$work/ssh.times"
		[ "${m:-0}" -gt 10000 ] && echo "$t" >>"$work/ssh.stalled"
		[ -n "${BENCH_VERBOSE:-}" ] && echo "script $t"
	done
	for tag in sha-aaaaaaa sha-bbbbbbb; do
		t0=$(date +%s%N)
		"$GANTRY" --config "$cfg" deploy staging "$tag" >"$work/gantry.out" 2>&1 ||
			{ echo "bench: gantry deploy failed" >&2; exit 1; }
		t=$(secs "$t0" "$(date +%s%N)")
		m=$(awk '/^\[[0-9]+\/[0-9]+\] run migrator/ { on = 1 } on && /ok in [0-9.]+s/ {
			sub(/.*ok in /, ""); sub(/s.*/, ""); print int($0 * 1000); exit }' "$work/gantry.out")
		echo "$t" >>"$work/gantry.times"
		[ "${m:-0}" -gt 10000 ] && echo "$t" >>"$work/gantry.stalled"
		# what gantry spends outside the host's steps: its checks, the lock and the start
		# record before them, the end record and the exit after
		awk -v t="$t" '/ok in [0-9.]+s/ { sub(/.*ok in /, ""); sub(/s.*/, ""); s += $0 }
			END { printf "%.3f\n", t - s }' "$work/gantry.out" >>"$work/gantry.outside"
		[ -n "${BENCH_VERBOSE:-}" ] && { echo "gantry $t"; grep -E '^\[|ok in' "$work/gantry.out" | paste - - ; }
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
printf '  gantry outside the host'"'"'s steps                median %6.3f s  (checks, lock, records; steps to 0.1 s)\n' \
	"$(median <"$work/gantry.outside")"
printf '  migrator steps over 10 s (podman'"'"'s /wait stall)  script %d, gantry %d of %d each (all counted)\n' \
	"$(wc -l <"$work/ssh.stalled")" "$(wc -l <"$work/gantry.stalled")" "$((rounds * 2))"
awk -v s="$s" -v g="$g" 'BEGIN {
	limit = s * 1.05 + 0.3
	printf "  gantry / script                                 %6.2fx   (target: <= 1.05x + 0.3 s = %.3f s: %s)\n",
	    g / s, limit, g <= limit ? "met" : "NOT met"
}'
