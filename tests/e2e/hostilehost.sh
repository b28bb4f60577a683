#!/bin/bash
# A hostile host on the dashboard, in --read-only mode as on a wallboard: one host's
# .gantry files are planted (a run id that is a shell command, held by a "live" lock, a
# freeze reason full of escapes), and another environment's host is tests/sandbox/sshevil,
# whose every reply is crafted. The dashboard comes up, says what is wrong where, runs
# nothing it read, and no byte the hosts chose reaches the terminal raw.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/tui.sh"

tui_sandbox_setup hosts
sandbox_evil_env || { echo "Bail out! sshevil did not start"; exit 1; }
cfg=$work/gantry.yml
dir=$SSHD_DIR/staging-1/deploy
g=$dir/.gantry
mkdir -p "$g/runs" "$g/lock"
chmod 700 "$g"
bad='x;touch${IFS}PWNED;#'
now=$(date +%s)
printf '{"id":"%s","event":"start","started":%s,"action":"deploy","tag":"sha-1111111","steps":["a"]}\n' \
	"$bad" "$now" >"$g/history.jsonl"
printf '%s\n' "$bad" >"$g/current"
printf 'owner=mallory\nsince=%s\nrun=%s\nmessage=\033]0;owned-lock\007hold\n' "$now" "$bad" >"$g/lock/owner"
# a process that passes for the runner, so the lock looks alive and the dashboard would attach
# (its output away from the TAP pipe, which an orphaned sleep would hold open for 300 s)
sh -c 'sleep 300; :' run.sh run </dev/null >/dev/null 2>&1 &
fake=$!
echo "$fake" >"$g/lock/pid"
printf 'by=mallory\nreason=\033]0;owned-freeze\007\033[2Jcalm\n' >"$g/freeze"

plan 18
# the wallboard (read-only): each environment's problem in one line, nothing raw
tui_start 110 30 "$GANTRY --read-only --config $cfg"
check "the wallboard comes up beside a hostile host" tui_wait 'STAGING .*READY' 15
check "the hostile host's environment says what went wrong there" \
	tui_wait 'root@127.0.0.1:[0-9]+: killed by SIG[A-Za-z0-9]+ on the' 15
check "the planted freeze shows, its escapes gone" tui_wait 'FROZEN by mallory: calm' 10
check "an environment whose host cannot be read is never a plain READY" \
	tui_wait 'EVIL( +·)? +READY, 1 of 1 host not read' 10
title=$(tui_tmux display-message -p -t t '#{pane_title}')
unlike "$title" 'owned' "nothing retitled the terminal"
tui_keys q
status=$(tui_wait_exit 15 2>&1)
is "$status" 0 "the wallboard exits normally"
tui_stop

# the dashboard: the hostile host's log, the planted history, and back
tui_start 110 30 "$GANTRY --config $cfg"
check "the dashboard comes up" tui_wait 'staging +sha-4e1d2c9' 15
check "the live lock whose run id is a command is shown, and not followed" \
	tui_wait 'LOCKED by mallory for [0-9]+s: hold +\(its run id is corrupt: not followed\)' 10
tui_keys j j
check "the hostile environment's host error is in its detail" tui_wait 'killed by SIG[A-Za-z0-9]+ on the host' 15
tui_keys l
check "its log opens with the host's output" tui_wait 'hello from the host' 15
unlike "$(tui_tmux capture-pane -p -e -t t)" $'\x1b\\[5m' "no blink from the host's output is on screen"
tui_keys Escape
check "back to the dashboard" tui_wait 'staging +sha-4e1d2c9' 5
tui_keys k k h
check "the history pane lists the planted run as corrupt" tui_wait 'deploy +sha-1111111 +corrupt' 15
tui_keys Escape
check "and goes back" tui_wait 'staging +sha-4e1d2c9' 5
title=$(tui_tmux display-message -p -t t '#{pane_title}')
unlike "$title" 'owned' "still nothing retitled the terminal"
tui_keys q
status=$(tui_wait_exit 15 2>&1)
is "$status" 0 "gantry exits normally"
if [ -e "$dir/PWNED" ] || [ -e "$HOME/PWNED" ]; then not_ok "no command in a planted id ran"; else ok "no command in a planted id ran"; fi
pkill -P "$fake" 2>/dev/null
kill "$fake" 2>/dev/null
like "$(cat "$g/lock/owner")" "owner=mallory" "the host's lock was left as it was"
done_testing
