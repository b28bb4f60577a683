#!/bin/bash
# The read-only wallboard: nothing writes, the badge is always there, stale data shouts.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/tui.sh"

SANDBOX_INTERVAL=500ms SANDBOX_TIMEOUT=5s tui_sandbox_setup

plan 38
tui_start 120 30 "$GANTRY --read-only --theme high-contrast --config $work/gantry.yml"
check "the wallboard shows both environments ready" tui_wait 'PRODUCTION +· +READY for' 10
like "$(tui_screen)" 'PRODUCTION +· +READY for [0-9]+s\+' \
	"ready since before gantry's first answer: at least that long (2s+), not 'for 2s'"
like "$(tui_screen)" 'READ-ONLY' "the READ-ONLY badge is visible"
like "$(tui_screen)" 'last refresh [0-9]{2}:[0-9]{2}:[0-9]{2}' "the time of the last refresh is shown"
like "$(tui_screen)" 'sha-4e1d2c9' "tags are shown"

tui_keys p
check "p (promote) is refused in read-only mode" tui_wait 'read-only: promote is disabled' 3
tui_keys b
check "b (rollback) is refused in read-only mode" tui_wait 'read-only: rollback is disabled' 3
tui_keys h
check "a key that does nothing on the wallboard says why" \
	tui_wait 'history does nothing here: the wallboard shows every environment and changes nothing' 3
tui_keys '?'
check "the help lists the keys that act on the wallboard" tui_wait 'r +check every environment now' 3
unlike "$(tui_screen)" 'promote|Enter, d|open the live app log' "and no key that does nothing there"
like "$(tui_screen)" 'Only these keys act here: the wallboard shows every environment' "and says why"
tui_keys Escape

# a hang longer than three intervals: the data goes stale, and says so
sandbox_set production 'mode=hang'
check "stale data is impossible to miss" tui_wait 'PRODUCTION +· +STALE' 8
like "$(tui_screen)" 'STALE DATA: 1 of 2' "the header counts the stale environments"
sandbox_set production 'mode=ok'
check "a state gantry saw begin has its real age, no +" tui_wait 'PRODUCTION +· +READY for [0-9]+s +·' 10
tui_stop

# one band per environment, scaled to the screen: large letters twice as big on an ops
# screen, once as big at 120x30 and 80x24, plain bars when there is no room for them
rows_lit() { tui_screen | grep -c '█'; }
tui_start 200 60 "$GANTRY --read-only --config $work/gantry.yml"
tui_wait 'PRODUCTION +· +READY for' 10
is "$(rows_lit)" 20 "at 200x60 each environment's name and state take 10 rows of large letters"
like "$(tui_screen | grep -m 1 '█')" '^ +█+ .* {20,}█+' "the state is drawn large beside the name"
sgr=$(tui_tmux capture-pane -p -e -t t | sed -n 4,6p | grep -o $'\e\\[[0-9;]*m' | tr -d '\033' | tr '\n' ' ')
like "$sgr" '\[1;7m \[32m' "the band is a tile in the state's colour (reverse green for ready: $sgr)"
tui_stop
tui_start 120 30 "$GANTRY --read-only --config $work/gantry.yml"
tui_wait 'PRODUCTION +· +READY for' 10
is "$(rows_lit)" 10 "at 120x30 the large letters are 5 rows"
tui_stop
tui_start 80 24 "$GANTRY --read-only --config $work/gantry.yml"
tui_wait 'PRODUCTION +· +READY for' 10
is "$(rows_lit)" 10 "at 80x24 too, the name alone when the state does not fit beside it"
unlike "$(tui_screen | grep -m 1 '█')" '█ {20,}█' "(no state in large letters)"
tui_stop
tui_start 60 16 "$GANTRY --read-only --config $work/gantry.yml"
check "at 60x16 each environment is a bar with its state, and a line with its tag" \
	tui_wait 'PRODUCTION +READY for' 10
like "$(tui_screen)" 'sha-8b03f7a +checked' "(the tag line)"
is "$(rows_lit)" 0 "(no large letters)"
tui_stop

# 8 colours (TERM=xterm): muted text is never black or white, the background of a dark or
# a light terminal, in any theme; with 256 colours it keeps the theme's grey
for theme in default light high-contrast; do
	tui_start 120 30 "TERM=xterm $GANTRY --read-only --theme $theme --config $work/gantry.yml"
	tui_wait 'last refresh' 10
	sgr=$(tui_tmux capture-pane -p -e -t t | grep -o $'\e\\[[0-9;]*m *last refresh' | head -n 1 | tr -d '\033')
	if [ -n "$sgr" ] && ! printf '%s' "$sgr" | grep -Eq '(\[|;)(30|37)(;|m)'; then
		ok "$theme on 8 colours: muted text is readable on dark and light ($sgr)"
	else
		not_ok "$theme on 8 colours: muted text is readable on dark and light"
		diag "the muted text is drawn with: ${sgr:-nothing found}"
	fi
	tui_stop
done
tui_start 120 30 "$GANTRY --read-only --theme light --config $work/gantry.yml"
tui_wait 'last refresh' 10
like "$(tui_tmux capture-pane -p -e -t t | grep -o $'\e\\[[0-9;]*m *last refresh' | head -n 1)" '38;5;244m' \
	"on 256 colours the light theme's muted grey is kept"
tui_stop

# more environments than rows: none is hidden. The broken one last in the file comes
# first; the healthy ones page through the rows left, the last row sums up the rest
many=$work/many.yml
{
	printf 'project: crowd\ndefaults: {interval: 500ms, timeout: 800ms}\nenvironments:\n'
	for i in $(seq -w 1 24); do
		printf '  - {name: env%s, url: "http://127.0.0.1:%s"}\n' "$i" "$(sandbox_port staging)"
	done
	printf '  - {name: production, url: "http://127.0.0.1:%s"}\n' "$(sandbox_port production)"
} >"$many"
sandbox_set production 'live=0'
for size in "80 24" "40 10"; do
	set -- $size
	tui_start "$1" "$2" "$GANTRY --read-only --config $many"
	check "at $1x$2 with 25 environments, the one that is down, last in the file, is on screen" \
		tui_wait '^ *PRODUCTION .* DOWN for' 15
	check "and the last row sums up those not shown" tui_wait '\+[0-9]+ more: [0-9]+ READY' 15
	[ "$TAP_FAILED" -eq 0 ] || diag "$(tui_screen)"
	tui_stop
done
tui_start 80 24 "$GANTRY --read-only --config $many"
tui_wait '\(page 1 of 2\)' 15
check "the healthy ones page through the rows on a timer" tui_wait '\(page 2 of 2\)' 15
like "$(tui_screen)" 'PRODUCTION' "and the broken one stays on screen"
tui_stop
# the dashboard keeps the file's order, and the row under the table says what is not shown
tui_start 80 24 "$GANTRY --config $many"
check "the dashboard at 80x24 says the rows it cannot show hold one that is down" \
	tui_wait '[0-9]+ more \(0 above, [0-9]+ below; j/k scroll\): 1 DOWN, [0-9]+ READY' 15
tui_keys G
check "and at the end of the list it is there" tui_wait '▶ +production +sha-8b03f7a +● HTTP 500' 10
tui_stop
sandbox_set production 'live=1'

# read_only in the file: the same, and no flag turns it off
sed -i 's/^project: /read_only: true\nproject: /' "$work/gantry.yml"
tui_start 100 30 "$GANTRY --config $work/gantry.yml"
check "read_only: true in gantry.yml opens the wallboard" tui_wait 'READ-ONLY' 15
tui_keys p
check "and refuses promote too" tui_wait 'read-only: promote is disabled' 3
tui_keys q
status=$(tui_wait_exit 15 2>&1)
is "$status" 0 "q still quits a wallboard"
done_testing
