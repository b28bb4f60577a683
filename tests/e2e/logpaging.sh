#!/bin/bash
# The log pane's paging at a small scrollback (issue 11): PgUp, g and G, a filter and
# PgUp under it never show blank rows while there are lines to show, and a filter that
# matches nothing says so.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/tui.sh"

tui_sandbox_setup hosts
# scrollback 100, tail 500: the pane keeps the newest 100 of 500 lines
sed -i 's|^    migrator: tail -n {tail} {follow} migrator.log$|&\n    tail: 500\n    scrollback: 100|' "$work/gantry.yml"
for i in $(seq 1 500); do printf 'line %03d %s\n' "$i" "$( [ $((i % 25)) = 0 ] && echo quarter)"; done \
	>>"$SSHD_DIR/staging-1/deploy/app.log"

# blank: how many of the pane's text rows (between its header and its status line) are empty
blank() {
	tui_screen | awk 'NR > 2 && NR < 29 && /^ *$/ { n++ } END { print n + 0 }'
}

plan 22
tui_start 100 30 "$GANTRY --config $work/gantry.yml"
tui_wait 'staging +sha-4e1d2c9' 10
tui_keys l
check "the log opens on its newest line" tui_wait 'line 500' 10
check "it keeps the newest 100 lines" tui_wait '100 lines, 400 older dropped \(scrollback 100\)' 5
tui_keys PPage
tui_wait 'PAUSED' 3
tui_keys PPage PPage
check "the third PgUp reaches the oldest line kept" tui_wait 'line 401' 5
is "$(blank)" 0 "and the pane has no blank row"
tui_keys PPage
sleep 0.3   # a key the pane must not act on: nothing to wait for
is "$(blank)" 0 "a fourth PgUp leaves the pane full"
tui_keys G g
check "g shows the oldest lines" tui_wait '^line 401' 5
is "$(blank)" 0 "with no blank row under them"
# a filter applied while scrolled back: the matches show, and PgUp under it keeps them
tui_keys '&' q u a r t e r Enter
check "a filter applied at the top shows its matches" tui_wait 'line 500 quarter' 5
like "$(tui_screen)" 'line 425 quarter' "all four of them"
tui_keys PPage
like "$(tui_screen | grep -c '^line [0-9]* quarter')" '^4$' "PgUp under the filter keeps the four matches"
tui_keys '&' n o - s u c h - l i n e Enter
check "a filter that matches nothing says so" tui_wait 'no line holds "no-such-line"' 5
tui_keys '&' Enter
# the footer is the pane's own; a "no match" goes when a later search matches
like "$(tui_screen)" '/ search +n/N older/newer +& filter' "the footer shows the log pane's keys"
tui_keys / n o t h e r e Enter
check "a search without a match says so" tui_wait '"nothere": no older match' 5
tui_keys / l i n e ' ' 4 5 0 Enter
check "a later search that matches takes the message away" tui_gone 'no older match' 5
like "$(tui_screen)" 'line 450' "and shows its match"
# the current match stands out from the other matches on screen
tui_keys G / q u a r t e r Enter
tui_wait 'search: quarter' 5
# the attributes drawn just before "quarter" on a line
sgr() { tui_tmux capture-pane -p -e -t t | grep "line $1 " | grep -oE $'(\e\\[[0-9;]*m)*quarter' | head -n 1 | tr -d '\033'; }
cur=$(sgr 500) other=$(sgr 475)
differ() { [ -n "$cur" ] && [ -n "$other" ] && [ "$cur" != "$other" ]; }
check "the current match is marked apart from the others ($cur vs $other)" differ
# the stream ends on the host: the status line says so, and how to start it again
tui_keys G
pkill -f 'tail -n 500 -f app.log'
check "an ended stream is not 'FOLLOWING'" tui_wait 'ENDED \((killed|exit [0-9]+); r starts it again\)' 10
printf 'line 501 written while it was down\n' >>"$SSHD_DIR/staging-1/deploy/app.log"
tui_keys r
check "r starts it again" tui_wait 'FOLLOWING' 10
check "the line written while it was down shows" tui_wait 'line 501 written while it was down' 10
is "$(tui_screen | grep -c '^line 500 ')" 1 "and the lines shown before are not repeated"
# a container recreated by a deploy: its log starts over, and shows whole
pkill -f 'tail -n 500 -f app.log'
tui_wait 'ENDED' 10
printf 'new container line %s\n' 1 2 3 >"$SSHD_DIR/staging-1/deploy/app.log"
tui_keys r
check "a log that starts over is said to" tui_wait 'the log started over \(new container\?\): 3 lines' 10
check "and shows from its first line" tui_wait 'new container line 1' 5
tui_keys q q
done_testing
