#!/bin/bash
# The dashboard as a user drives it in a real terminal: keys in, screen out.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/tui.sh"

SANDBOX_INTERVAL=500ms SANDBOX_TIMEOUT=400ms tui_sandbox_setup

plan 34
tui_start 100 30 "$GANTRY --config $work/gantry.yml"
check "both environments appear with their tags" tui_wait 'staging +sha-4e1d2c9 +● up +● ready.*production +sha-8b03f7a|production +sha-8b03f7a' 10
tui_wait 'production +sha-8b03f7a +● up +● ready' 5 >/dev/null
like "$(tui_screen)" 'gantry · sandbox-shop' "the title names the project"
check "the title says how long the sweep of every environment took" \
	tui_wait '^ gantry · sandbox-shop .* 2 envs checked in [0-9]+ ms  [0-9]{2}:[0-9]{2}:[0-9]{2}$' 5
like "$(tui_screen)" 'ENVIRONMENT +TAG +LIVE +READY +LATENCY +SINCE +CHECKED' "every column fits at 100 columns"
# no core dump, even with no secret in the configuration: libssh's key and the registry's
# tokens live in memory too
gpid=$(pgrep -P "$(tui_tmux list-panes -t t -F '#{pane_pid}')" -f gantry | head -n 1)
limits=$(cat "/proc/$gpid/limits" 2>&1)
like "$limits" 'Max core file size +0 +0 ' "gantry runs with core dumps off"

sandbox_set production 'ready=0'
check "production turning not ready shows by itself" tui_wait 'production +sha-8b03f7a +● up +● not ready' 5
sandbox_set production 'ready=1'
check "and back to ready" tui_wait 'production +sha-8b03f7a +● up +● ready' 5

tui_keys j
check "j selects production: the detail pane follows" tui_wait '─ production ─' 3
sandbox_set production 'ready=0'
check "the detail pane shows the reason" tui_wait 'ready +● not ready +HTTP 503 .*HTTP 503: migrations pending' 5
sandbox_set production 'ready=1'

sandbox_set production 'mode=hang'
tui_keys '?'
check "keys answer at once while an endpoint hangs: help opens" tui_wait 'Keys \((j/k|Esc)' 2
like "$(tui_screen)" 'p +promote the previous environment.s tag' "the help lists the actions from the table"
tui_keys Escape
check "Esc closes the help" tui_gone 'Keys \(' 3
check "the hung endpoint turns into timeout" tui_wait 'production .*timeout' 5
sandbox_set production 'mode=ok'

tui_resize 40 10
check "at 40x10 the table still shows the environments" tui_wait 'staging +sha-4e1d2c9' 3
tui_resize 30 8
check "below 40x10 a clear message" tui_wait 'too small: 30x8, need 40x10' 3
tui_resize 100 30
check "back to 100x30: full table again" tui_wait 'ENVIRONMENT +TAG +LIVE +READY +LATENCY' 3
unlike "$(tui_screen)" 'too small' "nothing left over from the small screen"

tui_keys q
status=$(tui_wait_exit 15 2>&1)
is "$status" 0 "q quits with status 0"
tui_stop

tui_start 100 30 "NO_COLOR=1 LANG=C $GANTRY --theme light --config $work/gantry.yml"
check "a non-UTF-8 locale draws with ASCII glyphs" tui_wait '^> +staging +sha-4e1d2c9 +\* up' 5
tui_tmux send-keys -t t C-c
status=$(tui_wait_exit 15 2>&1)
is "$status" 130 "C-c leaves through the normal exit path with status 130, as a shell reports SIGINT"
tui_stop

# 80x24: the help holds more keys than fit, and scrolls to every one of them
tui_start 80 24 "$GANTRY --config $work/gantry.yml"
tui_wait 'staging +sha-4e1d2c9' 10
tui_keys '?'
check "at 80x24 the help says it scrolls" tui_wait 'Keys \(j/k, PgUp/PgDn scroll' 5
like "$(tui_screen)" ' 1-[0-9]+ of [0-9]+ ' "and which of its lines show"
unlike "$(tui_screen)" 'break a stale lock' "the last keys are below the fold"
tui_keys G
check "G scrolls the help to its end: U is reachable" tui_wait 'U +history: break a stale lock' 5
tui_keys g
check "g back to the top" tui_wait 'select the previous environment' 5
tui_keys q
check "q closes the help, as it closes a pane (issue 24)" tui_gone 'Keys \(' 5
like "$(tui_screen)" 'staging +sha-4e1d2c9' "and gantry is still running, on the dashboard"
tui_keys c
check "a key that does nothing on the dashboard says so, and where it acts" \
	tui_wait 'cancel does nothing here: deploy: cancel the run' 5
tui_stop

# at 200 columns the help uses the width: no key list or description is cut
tui_start 200 50 "$GANTRY --config $work/gantry.yml"
tui_wait 'staging +sha-4e1d2c9' 10
tui_keys '?'
tui_wait 'Keys \(' 5
check "a wide screen shows every key of a binding in full" tui_wait 'PgDn, C-f, C-d, Space|PgDn C-f C-d Space' 5
like "$(tui_screen)" 'roll back: pick an earlier healthy tag in the history \(in the history: roll back to the selected run.s tag\)' \
	"and every description in full"
tui_stop

tui_start 100 30 "$GANTRY --config $work/gantry.yml"
check "the dashboard comes up again" tui_wait 'staging +sha-4e1d2c9' 10
kill -TERM "$(pgrep -P "$(tui_tmux display-message -p -t t '#{pane_pid}')" -f "$GANTRY")"
status=$(tui_wait_exit 15 2>&1)
is "$status" 143 "SIGTERM: status 143"
tui_stop

out=$("$GANTRY" --theme no-such-theme --config "$work/gantry.yml" 2>&1 </dev/null); rc=$?
like "$rc: $out" '^3: gantry: no theme named "no-such-theme" in .*; there are: default, high-contrast, light, mono' \
	"an unknown theme: exit 3 before the terminal is touched, naming the themes there are"
out=$(env -u GANTRY_THEMES_DIR HOME="$work" "$GANTRY" --theme light --config "$work/gantry.yml" 2>&1 </dev/null)
like "$out" 'needs a terminal' "run from the build tree, --theme light is found before make install"
done_testing
