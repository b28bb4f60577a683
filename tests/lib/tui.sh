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

TUI_SOCKET="gantry-test-$$"

tui_tmux() { tmux -L "$TUI_SOCKET" -f /dev/null "$@"; }

tui_start() {
	local cols=$1 rows=$2
	shift 2
	tui_tmux new-session -d -s t -x "$cols" -y "$rows" -e LANG=C.UTF-8 -e TERM=xterm-256color \
		-e "GANTRY_THEMES_DIR=${GANTRY_THEMES_DIR:-}" -e "ASAN_OPTIONS=${ASAN_OPTIONS:-}" \
		-e "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}" "$*"
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

# tui_dead: true once the program in the pane has exited
tui_dead() { [ "$(tui_tmux display-message -p -t t '#{pane_dead}')" = 1 ]; }

# tui_wait_exit [SECONDS]: wait for the program to exit; prints its exit status
tui_wait_exit() {
	local limit=${1:-10} i
	for i in $(seq 1 $((limit * 20))); do
		# tmux can mark the pane dead a moment before it has the exit status
		local st
		st=$(tui_tmux display-message -p -t t '#{pane_dead}:#{pane_dead_status}#{?pane_dead_signal,signal #{pane_dead_signal},}')
		case $st in
		1:?*) echo "${st#1:}"; return 0 ;;
		esac
		sleep 0.05
	done
	diag "still running after ${limit}s; the screen was:" "$(tui_screen)" >&2
	return 1
}

tui_resize() { tui_tmux resize-window -t t -x "$1" -y "$2"; }

tui_stop() { tui_tmux kill-server 2>/dev/null || true; }
