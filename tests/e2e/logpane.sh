#!/bin/bash
# The log pane: follow, pause, search, filter, wrap, hosts merged, a dropped sshd.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/tui.sh"

tui_sandbox_setup hosts
for i in $(seq 1 40); do sandbox_log prod-1 app "request $i served in ${i}ms"; done
sandbox_log prod-1 migrator "applying 0042_add_index" "migrations done"

plan 20
tui_start 120 30 "cd $work && $GANTRY --config $work/gantry.yml"
tui_wait 'production' 10
tui_keys j l
check "l opens the app log of the selected environment" tui_wait 'production app log' 10
check "lines of both hosts show, each with its host" tui_wait "$(sshd_port prod-1) +\| request 40 served in 40ms" 10
sandbox_log prod-2 app "$(printf '\033[32mgreen\033[0m from prod-2 \033]0;pwned\007')"
check "colour and title sequences are gone" tui_wait "$(sshd_port prod-2) +\| green from prod-2 *$" 5
like "$(tui_screen)" 'FOLLOWING' "the pane follows new lines"
sandbox_log prod-1 app "a brand new line"
check "a new line appears at once" tui_wait 'a brand new line' 5

tui_keys f
check "f pauses" tui_wait 'PAUSED' 3
sandbox_log prod-1 app "while paused"
sleep 0.5   # give the line time to arrive, then assert it is not drawn while paused
unlike "$(tui_screen)" 'while paused' "a paused pane does not move"
tui_keys f
check "f follows again, and the line shows" tui_wait 'while paused' 5

tui_keys / r e q u e s t ' ' 7 Enter
check "a search jumps to the newest match and pauses" tui_wait 'search: request 7' 3
like "$(tui_screen)" 'request 7 served in 7ms' "the match is on screen"
tui_keys '&' 3 3 m s Enter
check "a filter keeps only the lines that hold it" tui_wait 'filter: 33ms' 3
unlike "$(tui_screen)" 'request 34 served' "other lines are hidden"

tui_keys '&' BSpace BSpace BSpace BSpace Enter
sandbox_log prod-1 app "LONG-$(printf 'x%.0s' $(seq 1 150))-END"
tui_keys G
tui_wait 'LONG-x' 5
unlike "$(tui_screen)" 'x-END' "without wrap a long line is cut"
tui_keys w
check "w wraps it" tui_wait 'x-END' 3

tui_keys s
check "s saves the scrollback" tui_wait 'saved [0-9]+ lines to gantry-production-app-[0-9]{8}-[0-9]{6}(-2)?\.log' 5
# the file named in the footer now
saved_name() {
	tui_screen | grep -oE 'saved [0-9]+ lines to gantry-production-app-[0-9]{8}-[0-9]{6}(-[0-9]+)?\.log' |
		sed 's/.* to //'
}
first=$(saved_name)
tui_keys s
# a name of its own: the next second's, or the same second's with a -N
for _ in $(seq 1 100); do
	second=$(saved_name)
	[ -n "$second" ] && [ "$second" != "$first" ] && break
	sleep 0.05
done
if [ -n "$second" ] && [ "$second" != "$first" ]; then ok "a second save never clashes with the first"
else not_ok "a second save never clashes with the first"; diag "first: $first" "then: $second" "$(tui_screen)"; fi
saved=$(ls "$work"/gantry-production-app-*.log 2>/dev/null | wc -l)
is "$saved" 2 "two files were written"
is "$(stat -c %a "$work"/gantry-production-app-*.log | sort -u | tr '\n' ' ')" "600 " "and only their owner can read them"

tui_keys Escape m
check "m opens the migrator log" tui_wait 'production migrator log' 10
tui_keys q q
is "$(tui_wait_exit 10)" 0 "q closes the pane, then quits"
done_testing
