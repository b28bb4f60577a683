# tui.sh: drive gantry in a real terminal (tmux) and wait on what the screen shows.
# shellcheck shell=bash
#
#   tui_start COLS ROWS CMD...   run CMD in a detached tmux pane of that size
#   tui_wait REGEX [SECONDS]     poll the screen until REGEX shows (default 10 s)
#   tui_gone REGEX [SECONDS]     poll until REGEX is no longer on screen
#   tui_keys KEYS...             tmux send-keys
#   tui_screen                   the pane's text now
#   tui_stop
# Waiting is on screen state, polled every 50 ms, never on a fixed sleep.

# Each tui_start gets a tmux server of its own: a server still shutting down after
# tui_stop must never swallow the next test's session.
TUI_RUN=0
TUI_SOCKET="gantry-test-$$-0"

tui_tmux() { tmux -L "$TUI_SOCKET" -f /dev/null "$@"; }

# The pane's shell ignores SIGINT, as an interactive shell does while its job runs, so
# C-c reaches gantry alone; the shell prints how it ended and exits with the same status
# (tmux may drop a dying pane's last output: "Pane is dead (status N" then says it).
tui_start() {
	local cols=$1 rows=$2
	shift 2
	TUI_RUN=$((TUI_RUN + 1))
	TUI_SOCKET="gantry-test-$$-$TUI_RUN"
	tui_tmux new-session -d -s t -x "$cols" -y "$rows" -e LANG=C.UTF-8 -e TERM=xterm-256color \
		-e "GANTRY_THEMES_DIR=${GANTRY_THEMES_DIR:-}" -e "ASAN_OPTIONS=${ASAN_OPTIONS:-}" \
		-e "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}" "trap '' INT; $*; st=\$?; echo \"[exited with status \$st]\"; exit \$st"
	tui_tmux set-option -t t remain-on-exit on >/dev/null
}

tui_screen() { tui_tmux capture-pane -p -t t; }

tui_wait() {
	local re=$1 limit=${2:-10} i
	for i in $(seq 1 $((limit * 20))); do
		tui_screen | grep -Eq -- "$re" && return 0
		sleep 0.05
	done
	diag "timed out after ${limit}s waiting for /$re/; the screen was:"
	diag "$(tui_screen)"
	return 1
}

tui_gone() {
	local re=$1 limit=${2:-10} i
	for i in $(seq 1 $((limit * 20))); do
		tui_screen | grep -Eq -- "$re" || return 0
		sleep 0.05
	done
	diag "timed out after ${limit}s waiting for /$re/ to go; the screen was:"
	diag "$(tui_screen)"
	return 1
}

tui_keys() { tui_tmux send-keys -t t "$@"; }

# tui_wait_exit [SECONDS]: wait for the program to exit; prints its exit status.
# The pane's shell prints the status after the program, so this reads the screen too.
tui_wait_exit() {
	local limit=${1:-10} i st
	for i in $(seq 1 $((limit * 20))); do
		# the shell's line, or tmux's own when the pane died before the shell could print
		st=$(tui_screen | sed -n -e 's/^\[exited with status \([0-9]*\)\]$/\1/p' \
			-e 's/^Pane is dead (status \([0-9]*\),.*/\1/p' | head -n 1)
		if [ -n "$st" ]; then
			echo "$st"
			return 0
		fi
		sleep 0.05
	done
	diag "still running after ${limit}s; the screen was:" "$(tui_screen)" >&2
	return 1
}

tui_resize() { tui_tmux resize-window -t t -x "$1" -y "$2"; }

tui_stop() { [ -n "${TUI_KEEP:-}" ] && return 0; tui_tmux kill-server 2>/dev/null || true; }

# tui_sandbox_setup [hosts]: the common start of an end-to-end test: a work directory,
# the sandbox's two apps (and with "hosts" its sshd hosts, sshd.sh sourced), and a
# trap that stops the terminal, the hosts and the apps on exit.
tui_sandbox_setup() {
	work=$(mktemp -d)
	trap 'tui_stop; [ -z "${SSHD_DIR:-}" ] || sshd_stop_all; sandbox_stop; rm -rf "$work"' EXIT
	sandbox_start "$work" || { echo "Bail out! the sandbox did not start"; exit 1; }
	if [ "${1:-}" = hosts ]; then
		sandbox_hosts || { echo "Bail out! sshd did not start"; exit 1; }
	fi
}
