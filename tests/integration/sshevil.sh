#!/bin/bash
# A hostile SSH server: tests/sandbox/sshevil (libssh's server side, on loopback) answers
# every command with output, errors, an exit-signal name and message full of terminal
# escapes, or never answers, or refuses every channel. Nothing it says reaches the
# terminal raw, every command ends with a clear refusal, and a command it never answers
# ends at command_timeout (issue 10, findings 5 and 10).
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/sshd.sh"

work=$(mktemp -d)
trap 'sshd_stop_all; sandbox_stop; rm -rf "$work"' EXIT
sandbox_start "$work" || { echo "Bail out! the sandbox did not start"; exit 1; }
sandbox_hosts || { echo "Bail out! sshd did not start"; exit 1; }
sandbox_evil_env || { echo "Bail out! sshevil did not start"; exit 1; }
cfg=$work/gantry.yml

# run LABEL ARGS...: gantry's output (stdout and stderr) in $out, its status in $rc
run() {
	timeout 60 "$GANTRY" --config "$cfg" "${@:2}" >"$work/out.$1" 2>&1
	rc=$?
	out=$(cat "$work/out.$1")
}
# clean LABEL: the output holds no ESC, no BEL and no C1 CSI byte
clean() {
	if LC_ALL=C grep -q $'[\x1b\x07\x9b]' "$work/out.$1"; then
		not_ok "$2"
		diag "$(cat -v "$work/out.$1")"
	else
		ok "$2"
	fi
}

plan 22

# an exit-signal whose name and message are escapes, after output and errors full of them
run history history evil
isnt "$rc" 0 "history on a host that kills every command fails"
like "$out" "cannot read evil's history on root@127.0.0.1:[0-9]+: killed by SIG[A-Za-z0-9]+ on the host" \
	"saying the host killed the command, the signal's name cut to letters and digits"
clean history "no byte the server chose reaches the terminal from history"
run logs logs evil app
like "$out" "hello from the host" "logs show the host's output"
clean logs "without its escapes (OSC title, clear screen, blink, a C1 CSI)"
like "$out" "killed by SIG[A-Za-z0-9]+ on the host" "and how the command ended"
run freeze freeze evil -m "hostile test"
isnt "$rc" 0 "freeze on that host fails"
clean freeze "freeze prints nothing raw"
run unlock unlock evil -m "hostile test"
clean unlock "unlock prints nothing raw"
run attach --read-only attach evil
is "$rc" 6 "a read-only attach is refused"
clean attach "and prints nothing raw"
run status status
clean status "status prints nothing raw"

# output and exit 0, but not gantry's reply: the state is refused, not guessed
sshd_evil_mode evil garbage
run garbage history evil
isnt "$rc" 0 "a reply that is not gantry's state is refused"
like "$out" "the host's reply is not gantry's" "saying so"
clean garbage "and prints nothing raw"

# a command the host never answers ends at command_timeout, and gantry goes on
sshd_evil_mode evil hang
t0=$(date +%s)
run hang history evil
took=$(( $(date +%s) - t0 ))
isnt "$rc" 0 "a history read the host never answers fails"
like "$out" "no answer within 2s \\(command_timeout\\): the command was stopped" "at command_timeout, saying so"
check "within the deadline and the login (${took}s)" [ "$took" -lt 10 ]
run hang-freeze freeze evil -m "hostile test"
like "$out" "no answer within 2s" "a freeze the host never answers ends the same way"
t0=$(date +%s)
run hang-logs logs evil app
took=$(( $(date +%s) - t0 ))
isnt "$rc" 0 "a log read once (no -f) that the host never answers fails"
like "$out" "no answer within 2s \\(command_timeout\\)" "at command_timeout too (${took}s), saying so"

# every channel refused: the refusal is said, with nothing of the server's raw
sshd_evil_mode evil refuse
run refuse history evil
like "$out" "cannot open a channel" "a refused channel is reported"
done_testing
