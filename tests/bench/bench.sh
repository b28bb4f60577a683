#!/bin/bash
# make bench: one refresh cycle over 200 environments whose endpoints each answer
# after 100 ms, against a sequential curl loop and the single-request latency,
# all measured here, now. Prints ratios; never part of make check.
set -u
: "${GANTRY:?}" "${APPSERVER:?}"
envs=${BENCH_ENVS:-200}
delay=${BENCH_DELAY_MS:-100}
loop_envs=${BENCH_LOOP_ENVS:-20}
work=$(mktemp -d)
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
"$APPSERVER" --listen 127.0.0.1:0 --port-file "$work/port" --delay "$delay" >/dev/null 2>&1 &
server=$!
trap 'kill $server; rm -rf "$work"' EXIT
for i in $(seq 1 100); do [ -s "$work/port" ] && break; sleep 0.02; done
port=$(cat "$work/port")

{
	echo "project: bench"
	echo "defaults: {interval: 10s, timeout: 5s}"
	echo "environments:"
	for i in $(seq 1 "$envs"); do
		printf '  - name: env%03d\n    url: http://127.0.0.1:%s/e%d\n' "$i" "$port" "$i"
	done
} >"$work/gantry.yml"

ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }

# single-request latency: the best of 5
single=999999
for i in 1 2 3 4 5; do
	t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/e1/api/ready")
	t=$(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')
	single=$(awk -v a="$single" -v b="$t" 'BEGIN { print (b < a) ? b : a }')
done

# sequential curl loop: the same three requests per environment, one after another
start=$(date +%s%N)
for i in $(seq 1 "$loop_envs"); do
	curl -s -o /dev/null "http://127.0.0.1:$port/e$i/api/health" \
		-o /dev/null "http://127.0.0.1:$port/e$i/api/ready" \
		-o /dev/null "http://127.0.0.1:$port/e$i/api/version"
done
end=$(date +%s%N)
loop_ms=$(ms "$start" "$end")
loop_full=$(awk -v m="$loop_ms" -v n="$envs" -v k="$loop_envs" 'BEGIN { printf "%.0f", m * n / k }')

# gantry: one cycle (gantry status), best of 3, with its CPU time
best=999999
cpu=0
for i in 1 2 3; do
	start=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o "$work/time" "$GANTRY" --config "$work/gantry.yml" status >"$work/out" 2>/dev/null
	end=$(date +%s%N)
	t=$(ms "$start" "$end")
	if awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
		best=$t
		cpu=$(awk '{ printf "%.1f", ($1 + $2) * 1000 }' "$work/time")
	fi
done
ready=$(grep -c ' ready ' "$work/out")

echo "gantry bench: $envs environments x 3 endpoints, each answering after ${delay} ms"
printf '  single request (curl, best of 5)    %8.1f ms\n' "$single"
printf '  sequential curl loop (%d envs)      %8.1f ms  -> %s ms for %d envs\n' "$loop_envs" "$loop_ms" "$loop_full" "$envs"
printf '  gantry status, one cycle (best of 3) %7.1f ms  (%d of %d ready)\n' "$best" "$ready" "$envs"
printf '  gantry CPU time for that cycle       %7.1f ms\n' "$cpu"
awk -v g="$best" -v s="$single" -v l="$loop_full" 'BEGIN {
	printf "  cycle / single request               %7.2fx  (target <= 1.5x)\n", g / s
	printf "  sequential loop / cycle              %7.1fx  faster\n", l / g
}'
