#!/bin/bash
# A host whose key is unknown, as a new user meets it: the dashboard's detail pane and
# the log pane show the refusal, the fingerprint and the fix in full (wrapped, never run
# together with the host's state), at a wide and at a narrow size.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/tui.sh"

tui_sandbox_setup hosts
port=$(sshd_port staging-1)
grep -v "$port" "$HOME/.ssh/known_hosts" >"$work/kh" && cp "$work/kh" "$HOME/.ssh/known_hosts"
fix="If that is the host's key, add it: ssh-keyscan -p $port 127.0.0.1 >> ~/.ssh/known_hosts"

plan 10
# joined: the screen's text with its wrapping undone
joined() { tui_screen | sed 's/^ *//' | tr '\n' ' ' | tr -s ' '; }
for size in "140 40" "90 40"; do
	set -- $size
	tui_start "$1" "$2" "$GANTRY --config $work/gantry.yml"
	tui_wait "root@127.0.0.1:$port +host key unknown" 15
	tui_wait "offers host key" 5
	like "$(joined)" "offers host key ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}, which is in no known_hosts file; not connecting\." \
		"at $1 columns, the detail pane gives the whole refusal, with the fingerprint"
	like "$(joined)" "$(printf '%s' "$fix" | sed 's/[][\.*^$]/\\&/g')" "at $1 columns, and the fix in full"
	check "at $1 columns, the state says when it retries" \
		tui_wait "root@127.0.0.1:$port +host key unknown, retry in [0-9]+s" 10
	unlike "$(tui_screen)" "retry in [0-9]+s[^ ]" "at $1 columns, the state and the message never run together"
	tui_keys l
	check "at $1 columns, the log pane says the host key is unknown, not connecting" \
		tui_wait "staging app log .* root@127.0.0.1:$port host key unknown" 10
	tui_stop
done
done_testing
