# tap.sh: a few TAP helpers for gantry's shell tests. Each assertion is one test line.
# shellcheck shell=bash

TAP_COUNT=0
TAP_FAILED=0

# wait_for FILE REGEX SECONDS: poll a file until REGEX shows (not an assertion)
wait_for() {
	local i
	for i in $(seq 1 $(($3 * 20))); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	diag "timed out waiting for /$2/ in $1:" "$(cat "$1" 2>/dev/null)"
	return 1
}

# plan N: say how many tests will run
plan() { echo "1..$1"; }

ok() {
	TAP_COUNT=$((TAP_COUNT + 1))
	echo "ok $TAP_COUNT - $*"
}

not_ok() {
	TAP_COUNT=$((TAP_COUNT + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_COUNT - $*"
}

# diag TEXT: a comment shown in the log
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# check DESCRIPTION COMMAND...: ok when the command succeeds
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then ok "$3"; else not_ok "$3"; diag "got:  $1" "want: $2"; fi
}

# isnt GOT UNWANTED DESCRIPTION
isnt() {
	if [ "$1" != "$2" ]; then ok "$3"; else not_ok "$3"; diag "got:  $1" "which it must not be"; fi
}

# like TEXT REGEX DESCRIPTION: ok when TEXT matches the extended regex
like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then ok "$3"; else not_ok "$3"; diag "no match for /$2/ in:" "$1"; fi
}

# unlike TEXT REGEX DESCRIPTION
unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then not_ok "$3"; diag "unexpected /$2/ in:" "$1"; else ok "$3"; fi
}

# done_testing: exit status says whether all passed
done_testing() { [ "$TAP_FAILED" -eq 0 ]; }
