#!/bin/bash
# make bench cannot rot: every benchmark of `make bench` runs once here, on tiny inputs
# (a handful of environments, a few thousand log lines, one deploy round), and each
# figure it prints is checked to be there and to be a number. The figures themselves
# mean nothing at this size; `make bench` measures them.
. "$srcdir/tests/lib/tap.sh"
: "${GANTRY:?}" "${APPSERVER:?}" "${LOGBENCH:?}"
plan 7
out=$(mktemp)
trap 'rm -f "$out"' EXIT

BENCH_ENVS=6 BENCH_LOOP_ENVS=2 BENCH_RUNS=1 BENCH_LOG_LINES=3000 BENCH_DELAY_MS=20 \
	bash "$srcdir/tests/bench/bench.sh" >"$out" 2>&1
status=$?
is "$status" 0 "bench.sh runs to its end on tiny inputs"
[ "$status" -eq 0 ] || diag "$(tail -n 30 "$out")"
like "$(cat "$out")" 'refresh cycle in a running gantry +[0-9.]+ ms' "the refresh cycle is measured"
like "$(cat "$out")" 'gantry status / single request +[0-9.]+x' "gantry status is set against one request"
like "$(cat "$out")" 'throughput, log buffer / OpenSSH +[0-9.]+x' "the log buffer is set against the OpenSSH client"
like "$(cat "$out")" 'throughput, gantry logs / OpenSSH +[0-9.]+x' "gantry logs is set against the OpenSSH client"
[ "$TAP_FAILED" -eq 0 ] || diag "$(cat "$out")"

BENCH_ROUNDS=1 bash "$srcdir/tests/bench/promote.sh" >"$out" 2>&1
status=$?
is "$status" 0 "promote.sh deploys one round through gantry and through the shell script"
like "$(cat "$out")" 'gantry / script +[0-9.]+x' "the deploy is set against the shell script"
[ "$TAP_FAILED" -eq 0 ] || diag "$(tail -n 30 "$out")"
done_testing
