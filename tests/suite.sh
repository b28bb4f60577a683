#!/bin/bash
# The whole test suite, from a fresh clone: installs what is missing, builds with
# warnings as errors and runs every test (`make check`, gcc); runs the unit, fuzz-corpus,
# host (sshd, tmux) and documentation tests and a slice of the container tier again under
# ASan+UBSan (clang, `make check-asan`); builds the release tarball and runs its unit and
# documentation tests (`make distcheck-tier`). Prints each test file's time and each
# stage's, and ends with one line: N passed, N failed, N skipped.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)

suite_start=$(date +%s)
bash tests/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; echo "0 passed, 1 failed"; exit 1; }

extra_pass=0
extra_fail=0
# step NAME COMMAND...: a build step that counts as one test in the summary
step() {
	local name=$1
	shift
	echo "=== $name"
	if "$@"; then
		echo "PASS: $name"
		extra_pass=$((extra_pass + 1))
	else
		echo "FAIL: $name"
		extra_fail=$((extra_fail + 1))
	fi
}

# ran_check NAME: a make check that could not even build its tests is a failure
ran_check() {
	if [ ! -f test-suite.log ]; then
		echo "FAIL: make check ($1) did not run its tests:"
		tail -n 20 check.out
		extra_fail=$((extra_fail + 1))
	fi
}

# show_failures [DIR]: the diagnostics of every test script under DIR (default tests)
# that failed, so a CI log says why
show_failures() {
	local trs log
	for trs in $(grep -lE '^:test-result: (FAIL|ERROR|XPASS)' $(find "${1:-tests}" -name '*.trs' 2>/dev/null) 2>/dev/null); do
		log=${trs%.trs}.log
		echo "--- $log (its not-ok lines and diagnostics)"
		grep -E '^(not ok|#)' "$log" | head -n 80
	done
}

# times DIR: each test file's time under DIR (timed-driver.sh's .dur files), longest first
times() {
	find "$1" -name '*.dur' 2>/dev/null | while read -r f; do
		printf '%s %s\n' "$(cat "$f")" "${f%.dur}"
	done | sort -rn | awk '{ printf "  %7.1f s  %s\n", $1, $2; t += $1 } END { printf "  %7.1f s  in all (tests run two at a time)\n", t }'
}
stage_start=$suite_start
# stage NAME: says how long the stage just ended took
stage() {
	local now
	now=$(date +%s)
	echo "=== $1 took $((now - stage_start)) s"
	stage_start=$now
}
stage "installing and autoreconf"

# 1. gcc, warnings as errors: every test
mkdir -p build && cd build || exit 1
step "configure --enable-werror (gcc)" ../configure --enable-werror -q
step "build (gcc)" make -j"$jobs" -s
make -j"$jobs" check >check.out 2>&1
ran_check gcc
grep -E '^(FAIL|ERROR|XPASS):' check.out
show_failures
tail -n 9 check.out
echo "=== test times (gcc)"
times tests
stage "gcc build and make check"
cd "$top" || exit 1

# 2. clang with AddressSanitizer and UndefinedBehaviorSanitizer: all but the container
# tier, and a slice of that (Makefile.am's ASAN_TESTS)
mkdir -p build-asan && cd build-asan || exit 1
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
step "configure (clang, ASan+UBSan)" ../configure --enable-werror -q CC=clang \
	CFLAGS="-O1 -g $san" LDFLAGS="$san"
step "build (clang, ASan+UBSan)" make -j"$jobs" -s
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23" UBSAN_OPTIONS="print_stacktrace=1" \
	FUZZ_ITERATIONS=5000 make -j"$jobs" check-asan >check.out 2>&1
ran_check asan
grep -E '^(FAIL|ERROR|XPASS):' check.out | sed 's/^/asan: /'
show_failures
tail -n 9 check.out
echo "=== test times (ASan+UBSan)"
times tests
stage "ASan+UBSan build and make check-asan"
cd "$top" || exit 1

# 3. the release tarball builds, runs its unit and documentation tests, and installs on
# its own (the gcc build ran every other test from this same tree)
cd build || exit 1
echo "=== make distcheck (unit and documentation tests)"
if make -s distcheck-tier DISTCHECK_CONFIGURE_FLAGS=--enable-werror >distcheck.out 2>&1; then
	echo "PASS: make distcheck"
	extra_pass=$((extra_pass + 1))
else
	echo "FAIL: make distcheck"
	extra_fail=$((extra_fail + 1))
	# its tests ran in the unpacked tarball's build folder, left in place on failure
	grep -E '^(FAIL|ERROR|XPASS):' distcheck.out | sed 's/^/distcheck: /'
	show_failures gantry-*/_build
	tail -n 40 distcheck.out
fi
stage "make distcheck"
cd "$top" || exit 1
echo "=== the suite took $(($(date +%s) - suite_start)) s"

# the summary: every test case of both runs, plus the build steps
counts=$(find build/tests build-asan/tests \( -path '*/gantry-*' -prune \) -o -name '*.trs' -print 2>/dev/null |
	xargs grep -h '^:test-result:' 2>/dev/null |
	awk '{ n[$2]++ } END { print n["PASS"] + n["XFAIL"] + 0, n["FAIL"] + n["XPASS"] + n["ERROR"] + 0, n["SKIP"] + 0 }')
read -r passed failed skipped <<<"$counts"
passed=$((passed + extra_pass))
failed=$((failed + extra_fail))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
