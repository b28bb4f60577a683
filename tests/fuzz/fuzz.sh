#!/bin/bash
# Runs each fuzz target over the corpus and deterministic mutations of it.
. "$srcdir/tests/lib/tap.sh"
plan 6
for target in conf payload hostdata registry hoststate events; do
	out=$("./tests/fuzz/fuzz_$target" "$FUZZ_CORPUS" "${FUZZ_ITERATIONS:-20000}" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then ok "fuzz_$target: ${out##*- }"; else not_ok "fuzz_$target exited $rc"; diag "$out"; fi
done
done_testing
