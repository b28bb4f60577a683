#!/bin/bash
# Every pane transition the keys allow, with real parts behind it (registry, podman with
# docker-compose, OpenSSH hosts): dashboard, history, plan, run, log and fleet panes and the help,
# in every order two deep, the on-call rollback path three deep, a selection kept across
# a refresh, and a fatal signal that leaves the terminal usable. After each path gantry
# must be alive and back on a sane dashboard.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/containers.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/release.sh"
. "$srcdir/tests/lib/tui.sh"

work=$(mktemp -d /tmp/gantry-e2e-panes.XXXXXX)
trap 'tui_stop; release_teardown >/dev/null 2>&1; rm -rf "$work"' EXIT
release_setup "$work" || { echo "Bail out! the release sandbox did not start"; exit 1; }
cfg=$work/gantry.yml
G() { "$GANTRY" --config "$cfg" "$@"; }
release_build sha-1111111 && release_build sha-2222222 || { echo "Bail out! images"; exit 1; }
G deploy staging sha-1111111 >"$work/first" 2>&1 && G promote production --yes >>"$work/first" 2>&1 &&
	G deploy staging sha-2222222 >>"$work/first" 2>&1 && G promote production --yes >>"$work/first" 2>&1 ||
	{ echo "Bail out! first deploys: $(tail -n 20 "$work/first" | tr '\n' '|')"; exit 1; }

keys=(h p a l m F '?')
plan $((${#keys[@]} * ${#keys[@]} + 13))

# the dashboard, alone on the screen: its table header, no pane or overlay over it
on_dashboard() {
	local s
	s=$(tui_screen)
	printf '%s' "$s" | grep -Eq 'ENVIRONMENT +TAG' &&
		! printf '%s' "$s" | grep -Eq 'Keys \(|^\[exited|Pane is dead'
}

# a sane screen: gantry's title on the first row, a footer on the last, not dead
sane() {
	local s
	s=$(tui_screen)
	printf '%s' "$s" | head -n 1 | grep -q 'gantry · release-sandbox' &&
		! printf '%s' "$s" | grep -Eq '^\[exited|Pane is dead'
}

# back_home: Esc until the dashboard shows, each Esc waited on (the screen below the
# title changes); fails when gantry died or the panes never close
back_home() {
	local n before i
	for n in 1 2 3 4 5; do
		on_dashboard && return 0
		sane || return 1
		before=$(tui_screen | tail -n +2)
		tui_keys Escape
		for i in $(seq 1 60); do
			[ "$(tui_screen | tail -n +2)" != "$before" ] && break
			sleep 0.05
		done
	done
	on_dashboard
}

key_name() { [ "$1" = '?' ] && echo help || echo "$1"; }

# --- every pair of pane keys, from the dashboard with production selected ---
tui_start 120 40 "$GANTRY --config $cfg"
tui_wait 'production +sha-2222222' 20
tui_keys j
tui_wait '─ production ─' 5
for k1 in "${keys[@]}"; do
	for k2 in "${keys[@]}"; do
		tui_keys -l "$k1"
		for i in $(seq 1 60); do on_dashboard || break; sleep 0.05; done
		tui_keys -l "$k2"
		# the keys are read in order: the dashboard after the Escs means k2 was handled
		if back_home && sane; then
			ok "$(key_name "$k1") then $(key_name "$k2"), then Esc back: gantry alive, the dashboard sane"
		else
			not_ok "$(key_name "$k1") then $(key_name "$k2"), then Esc back: gantry alive, the dashboard sane"
			diag "$(tui_screen)"
			tui_stop
			tui_start 120 40 "$GANTRY --config $cfg"
			tui_wait 'production +sha-2222222' 20
			tui_keys j
			tui_wait '─ production ─' 5
		fi
	done
done
tui_stop

# --- the on-call path: history, b on an older run, confirm, wait, h, Esc ---
tui_start 120 40 "$GANTRY --config $cfg"
tui_wait 'production +sha-2222222' 20
tui_keys j h
tui_wait 'history of production' 10
tui_wait 'promote +sha-1111111 +succeeded' 10
tui_keys j b
check "b on the older run plans the rollback" tui_wait 'rollback production . sha-1111111' 15
tui_wait 'Type its name to confirm' 15
tui_keys -l production
tui_keys Enter
check "the rollback runs to its end" tui_wait 'SUCCEEDED: production runs sha-1111111' 40
tui_keys h
check "h goes back to the history pane it came from" tui_wait 'history of production' 10
check "which lists the run just finished without a key" \
	tui_wait 'rollback +sha-1111111 +succeeded' 10
tui_keys Escape
check "Esc from there is the dashboard, gantry alive" tui_wait 'ENVIRONMENT +TAG' 5
check "and the screen is sane" sane
tui_keys h
tui_wait 'history of production' 10
tui_keys Escape
check "the history pane opens and closes again" tui_wait 'ENVIRONMENT +TAG' 5

# --- the selection is kept by run, not by row, when a run is recorded meanwhile ---
# (the pane's own title first: the dashboard's "last run" line names the same rollback)
tui_keys h
tui_wait 'history of production' 15
tui_wait '▶ .*rollback +sha-1111111 +succeeded' 15
tui_keys j
tui_wait '▶ .*promote +sha-2222222' 15
selected_id=$(tui_screen | grep -Eo '[0-9]{8}T[0-9]{6}Z-[a-z0-9]{4}' | head -n 1)
G freeze production -m "selection test" >/dev/null 2>&1
G unfreeze production >/dev/null 2>&1
tui_keys r
check "the refreshed history lists the two new notes" tui_wait 'unfreeze' 10
like "$(tui_screen | grep '▶' | head -n 1)" 'promote +sha-2222222' "the cursor stays on the run it was on"
like "$(tui_screen)" "$selected_id" "the selected run's detail is the same run"
tui_keys b
check "b plans a rollback to the run the user picked" tui_wait 'rollback production . sha-2222222' 15
back_home
tui_stop

# --- a fatal signal: the terminal is restored before gantry dies ---
tui_start 120 40 "$GANTRY --config $cfg"
tui_wait 'production +sha-1111111' 20
pane_pid=$(tui_tmux list-panes -t t -F '#{pane_pid}')
gpid=$(pgrep -P "$pane_pid" | head -n 1)
kill -SEGV "$gpid"
check "a SEGV says what happened" tui_wait 'gantry: killed by SIGSEGV' 10
unlike "$(tui_screen)" 'ENVIRONMENT +TAG' "and the dashboard is gone: the terminal left curses mode"
tui_stop

done_testing
