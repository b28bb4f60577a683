#!/bin/bash
# Hostile bytes from an endpoint never reach the terminal raw.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/tui.sh"

SANDBOX_INTERVAL=500ms SANDBOX_TIMEOUT=400ms tui_sandbox_setup

plan 6
sandbox_set production 'mode=garbage'
tui_start 100 30 "$GANTRY --config $work/gantry.yml"
check "the dashboard comes up beside a garbage endpoint" tui_wait 'staging +sha-4e1d2c9' 10
tui_keys j
check "the garbage becomes a clear error" tui_wait 'version: malformed JSON' 5
title=$(tui_tmux display-message -p -t t '#{pane_title}')
unlike "$title" 'owned' "an OSC title sequence in a body does not retitle the terminal"
like "$(tui_screen)" '─ production ─' "the screen was not cleared or moved by CSI sequences"
unlike "$(tui_tmux capture-pane -p -e -t t)" $'\x1b\\[5m' "no blink sequence from the body is on screen"
tui_keys q
status=$(tui_wait_exit 15 2>&1)
is "$status" 0 "gantry exits normally after showing hostile input"
done_testing
