#!/bin/bash
# make bench: (1) one refresh cycle over 200 environments whose endpoints each answer
# after 100 ms, inside a running gantry and as the whole `gantry status` process, against
# a sequential curl loop, curl's parallel mode and the single-request latency; (2) a
# million log lines over SSH into the log buffer, against the OpenSSH client. All
# measured here, now, on loopback. Prints ratios; never part of make check.
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

runs=${BENCH_RUNS:-7}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# single-request latency: the median of $runs
for i in $(seq 1 "$runs"); do
	curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$port/e1/api/ready" |
		awk '{ printf "%.1f\n", $1 * 1000 }'
done >"$work/single"
single=$(median <"$work/single")

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

# curl's own parallel mode: the same requests for every environment at once (the best a
# general HTTP client does here, on this machine, now)
urls=()
for i in $(seq 1 "$envs"); do
	for p in health ready version; do
		urls+=(-o /dev/null "http://127.0.0.1:$port/e$i/api/$p")
	done
done
for i in $(seq 1 "$runs"); do
	start=$(date +%s%N)
	curl -s -Z --parallel-max "$((envs * 3))" --parallel-immediate "${urls[@]}" 2>/dev/null
	ms "$start" "$(date +%s%N)"
	echo
done >"$work/parallel"
parallel=$(median <"$work/parallel")

# gantry status: the whole process (start-up, configuration, new connections, one
# round of every environment), with its CPU time
for i in $(seq 1 "$runs"); do
	start=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o "$work/time" "$GANTRY" --config "$work/gantry.yml" status >"$work/out" 2>/dev/null
	end=$(date +%s%N)
	echo "$(ms "$start" "$end") $(awk '{ printf "%.1f", ($1 + $2) * 1000 }' "$work/time")"
done >"$work/status"
status=$(awk '{ print $1 }' "$work/status" | median)
cpu=$(awk '{ print $2 }' "$work/status" | median)
ready=$(grep -c ' ready ' "$work/out")

# the refresh cycle inside a running gantry: r asks every environment at once, and the
# title bar says how long the sweep took, from its first request to its last answer
# (connections kept alive from the sweep before, as in a console left open)
# shellcheck source=../lib/tui.sh
. "$srcdir/tests/lib/tui.sh"
diag() { echo "bench: $*" >&2; }
sweep() { tui_screen | head -n 1 | sed -n 's/.* checked in \([0-9]*\) ms.*/\1/p'; }
tui_start 120 30 "$GANTRY" --config "$work/gantry.yml"
tui_wait 'envs checked in [0-9]+ ms' 20 >/dev/null || exit 1
: >"$work/cycle"
for i in $(seq 1 "$runs"); do
	before=$(tui_screen | head -n 1 | sed 's/[0-9:]*  *$//')
	tui_keys r
	# the figure changes when the sweep ends; an unchanged one reads the same either way
	for _ in $(seq 1 40); do
		[ "$(tui_screen | head -n 1 | sed 's/[0-9:]*  *$//')" != "$before" ] && break
		sleep 0.05
	done
	sweep >>"$work/cycle"
done
tui_stop
cycle=$(median <"$work/cycle")

echo "gantry bench: $envs environments x 3 endpoints, each answering after ${delay} ms; medians of $runs"
printf '  single request (curl)                 %8.1f ms\n' "$single"
printf '  sequential curl loop (%d envs)        %8.1f ms  -> %s ms for %d envs\n' "$loop_envs" "$loop_ms" "$loop_full" "$envs"
printf '  curl -Z, all at once                  %8.1f ms\n' "$parallel"
printf '  gantry status, the whole process      %8.1f ms  (%d of %d ready; CPU %.1f ms)\n' "$status" "$ready" "$envs" "$cpu"
printf '  refresh cycle in a running gantry     %8.1f ms  (r, then the title bar)\n' "$cycle"
awk -v g="$status" -v c="$cycle" -v s="$single" -v l="$loop_full" -v p="$parallel" 'BEGIN {
	printf "  refresh cycle / single request        %8.2fx  (target <= 1.5x)\n", c / s
	printf "  gantry status / single request        %8.2fx\n", g / s
	printf "  gantry status / curl -Z               %8.2fx\n", g / p
	printf "  sequential loop / gantry status       %8.1fx  faster\n", l / g
}'

# ---- logs: one million lines over SSH into the log buffer ---------------------
# The same stream read by the OpenSSH client into /dev/null, and by gantry's log
# pane code (tests/bench/logbench: remote + logstream + buffer, no display) while
# a "key" arrives every 5 ms and the loop answers it. Best of 3 for each.
: "${LOGBENCH:?}" "${srcdir:?}"
lines=${BENCH_LOG_LINES:-1000000}
# shellcheck source=../lib/sshd.sh
. "$srcdir/tests/lib/sshd.sh"
trap 'kill $server; sshd_stop_all; rm -rf "$work"' EXIT
sshd_setup "$work/ssh" >/dev/null || exit 1
sshd_host bench-1 || exit 1
sshd_trust bench-1
deploy=$SSHD_DIR/bench-1/deploy
# compose-style lines: a coloured service prefix, a timestamp, a request (~100 bytes)
awk -v n="$lines" 'BEGIN {
	for (i = 1; i <= n; i++)
		printf "\033[36mapp-1  |\033[0m 2026-11-22T10:%02d:%02d.%03dZ INFO GET /api/orders/%d 200 %dms req=%08x\n",
		    (i / 60000) % 60, (i / 1000) % 60, i % 1000, i, i % 97, i * 2654435761 % 4294967296
}' >"$deploy/app.log"
log_bytes=$(stat -c %s "$deploy/app.log")

logconf() { # SCROLLBACK COMMAND
	cat >"$work/logs.yml" <<YAML
project: bench
environments:
  - name: bench
    url: http://127.0.0.1:$port
    hosts: [root@127.0.0.1:$(sshd_port bench-1)]
    deploy_dir: $deploy
    logs: {app: "$2", scrollback: $1}
YAML
}

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
best_of3() { # prints the best wall time of "$@" in seconds
	local b=999999 s e t
	for i in 1 2 3; do
		s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
		t=$(secs "$s" "$e")
		b=$(awk -v a="$t" -v b="$b" 'BEGIN { print (a < b) ? a : b }')
	done
	echo "$b"
}
logbench_best() { # SCROLLBACK: the best run's figures (by seconds)
	local out b=
	for i in 1 2 3; do
		out=$("$LOGBENCH" "$work/logs.yml" bench) || { echo "logbench failed: $out" >&2; exit 1; }
		if [ -z "$b" ] || awk -v a="${out#seconds=}" -v b="${b#seconds=}" \
			'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] < y[1]) }'; then
			b=$out
		fi
	done
	echo "$b"
}
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

for workload in "cat app.log" "seq 1 $lines"; do
	logconf 10000 "$workload"
	ossh=$(best_of3 sshd_ssh bench-1 "cd $deploy && $workload")
	res=$(logbench_best)
	glogs=$(best_of3 "$GANTRY" --config "$work/logs.yml" logs bench app)
	if [ "$workload" = "cat app.log" ]; then
		what="$lines compose-style lines, $(awk -v b="$log_bytes" 'BEGIN { printf "%.0f MB", b / 1e6 }')"
	else
		what="$lines short lines (seq)"
	fi
	echo
	echo "gantry bench: logs over SSH, $what (\"$workload\"), scrollback 10000"
	printf '  OpenSSH client, ssh HOST CMD >/dev/null       %7.3f s\n' "$ossh"
	printf '  gantry log buffer (logbench), no display      %7.3f s  (%s lines, %s kept, exit %s)\n' \
		"$(field seconds "$res")" "$(field lines "$res")" "$(field kept "$res")" "$(field exit "$res")"
	printf '  gantry logs bench app >/dev/null              %7.3f s\n' "$glogs"
	awk -v o="$ossh" -v g="$(field seconds "$res")" -v c="$glogs" -v b="$(field bytes "$res")" 'BEGIN {
		printf "  throughput, log buffer / OpenSSH              %7.2fx  (target >= 1.0x; %.0f MB/s)\n", o / g, b / g / 1e6
		printf "  throughput, gantry logs / OpenSSH             %7.2fx\n", o / c
	}'
	printf '  keys answered meanwhile: %s, p50 %s ms, p99 %s ms, max %s ms\n' \
		"$(field keys "$res")" "$(field key_p50_ms "$res")" "$(field key_p99_ms "$res")" "$(field key_max_ms "$res")"
	printf '  peak RSS                                      %7d KB\n' "$(field rss_kb "$res")"
done

# memory follows the scrollback, not the length of the stream
echo
echo "gantry bench: peak RSS by scrollback ($lines compose-style lines)"
for sb in 1000 10000 100000; do
	logconf "$sb" "cat app.log"
	res=$("$LOGBENCH" "$work/logs.yml" bench)
	printf '  scrollback %6d   peak RSS %7d KB   (%s lines kept)\n' "$sb" "$(field rss_kb "$res")" "$(field kept "$res")"
done
