#!/bin/bash
# gantry logs against real OpenSSH servers on loopback: streaming, several hosts,
# refused host keys, a refused login, hostile lines, and sshd killed mid-stream.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/sshd.sh"

work=$(mktemp -d)
trap 'kill $follow_pid 2>/dev/null; sshd_stop_all; sandbox_stop; rm -rf "$work"' EXIT
sandbox_start "$work" || { echo "Bail out! the sandbox did not start"; exit 1; }
sandbox_hosts || { echo "Bail out! sshd did not start"; exit 1; }
cfg=$work/gantry.yml
p1="root@127.0.0.1:$(sshd_port prod-1)"

plan 33

sandbox_log staging-1 app "GET /api/ready 200" "GET /api/health 200"
out=$("$GANTRY" --config "$cfg" logs staging 2>&1)
is "$?" 0 "logs of a one-host environment exits 0"
is "$out" "GET /api/ready 200
GET /api/health 200" "and prints the host's lines as they are"

sandbox_log prod-1 app "one from prod-1"
sandbox_log prod-2 app "one from prod-2"
out=$("$GANTRY" --config "$cfg" logs production 2>&1 | sort)
like "$out" "^root@127\.0\.0\.1:[0-9]+ \| one from prod-1" "several hosts: each line says whose it is"
like "$out" "one from prod-2" "and both hosts are read"
out=$("$GANTRY" --config "$cfg" logs production --host "$p1" 2>&1)
is "$out" "one from prod-1" "--host picks one host, without a prefix"

# hostile bytes: colours, a title change, cursor moves, NULs, invalid UTF-8, a long line
printf '\033[31mred\033[0m \033]0;pwned\007title \033[2J\033[Hclear \000nul \377bad\n' \
	>>"$SSHD_DIR/staging-1/deploy/migrator.log"
head -c 1048576 /dev/zero | tr '\0' 'x' >>"$SSHD_DIR/staging-1/deploy/migrator.log"
echo >>"$SSHD_DIR/staging-1/deploy/migrator.log"
out=$("$GANTRY" --config "$cfg" logs staging migrator 2>&1)
first=$(printf '%s\n' "$out" | head -n 1)
is "$first" "red title clear nul �bad" "escape sequences and control bytes never come through"
if printf '%s' "$out" | LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177]')"; then
	not_ok "no control byte in the output"
else
	ok "no control byte in the output"
fi
like "$(printf '%s\n' "$out" | tail -n 1)" '^x{8192} \[\.\.\. 1040384 more bytes cut\]$' \
	"a line of a megabyte is cut at 8 KiB and says so"

# a log command that fails: its status is reported, gantry exits 4
sed -i 's|migrator: tail -n {tail} {follow} migrator.log|migrator: tail -n {tail} {follow} no-such.log|' "$cfg"
out=$("$GANTRY" --config "$cfg" logs staging migrator 2>&1)
is "$?" 4 "a failing log command exits 4"
like "$out" "the log command exited with status 1" "and says so"

# host keys: unknown, then changed
cp "$HOME/.ssh/known_hosts" "$work/known_hosts.all"
grep -v "$(sshd_port staging-1)" "$work/known_hosts.all" >"$HOME/.ssh/known_hosts"
out=$("$GANTRY" --config "$cfg" logs staging 2>&1)
is "$?" 4 "an unknown host key: no connection, exit 4"
like "$out" "offers host key ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}, which is in no known_hosts file; not connecting. If that is the host's key, add it: ssh-keyscan -p $(sshd_port staging-1) 127.0.0.1 >> ~/.ssh/known_hosts" \
	"the message shows the fingerprint and how to add the key"
cp "$work/known_hosts.all" "$HOME/.ssh/known_hosts"
sshd_new_key staging-1
out=$("$GANTRY" --config "$cfg" logs staging 2>&1)
like "$out" "now offers host key ssh-ed25519 SHA256:.*not the one $HOME/.ssh/known_hosts holds: someone may be intercepting the connection; not connecting.*ssh-keygen -f $HOME/.ssh/known_hosts -R '\[127.0.0.1\]:$(sshd_port staging-1)'" \
	"a changed host key is refused, naming the known_hosts file that holds the old key and how to replace it"
# the old key in the environment's own known_hosts file: that file is named
grep "$(sshd_port staging-1)" "$work/known_hosts.all" >"$work/team_known_hosts"
grep -v "$(sshd_port staging-1)" "$work/known_hosts.all" >"$HOME/.ssh/known_hosts"
sed -i "s|^  connect_timeout: 5s|  connect_timeout: 5s\n  known_hosts: $work/team_known_hosts|" "$cfg"
out=$("$GANTRY" --config "$cfg" logs staging 2>&1)
like "$out" "not the one $work/team_known_hosts holds: .*ssh-keygen -f $work/team_known_hosts -R" \
	"when the old key is in the configuration's known_hosts file, that file is named"
sed -i '/known_hosts: /d' "$cfg"
# an SSH config that turns host key checking off changes nothing
grep -v "$(sshd_port staging-1)" "$work/known_hosts.all" >"$HOME/.ssh/known_hosts"
printf 'Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n' >"$HOME/.ssh/config"
out=$("$GANTRY" --config "$cfg" logs staging 2>&1)
is "$?" 4 "StrictHostKeyChecking no in ~/.ssh/config does not let an unknown key in"
rm -f "$HOME/.ssh/config"
# a known_hosts file another account could have written checks no key
chmod 666 "$HOME/.ssh/known_hosts"
out=$("$GANTRY" --config "$cfg" logs production 2>&1)
is "$?" 4 "a known_hosts file others can write: no connection, exit 4"
like "$out" "$HOME/.ssh/known_hosts is not trusted to check host keys: other users can write it \(mode 666\): not read; chmod go-w $HOME/.ssh/known_hosts; not connecting" \
	"saying which file and how to fix it"
chmod 600 "$HOME/.ssh/known_hosts"
# trust on first use, only when asked for, and never in read-only mode
sed -i 's/^  connect_timeout: 5s/  connect_timeout: 5s\n  trust_new_host_keys: true/' "$cfg"
out=$("$GANTRY" --read-only --config "$cfg" logs staging 2>&1)
is "$?" 4 "a read-only gantry does not trust a new key, even with trust_new_host_keys"
unlike "$(cat "$HOME/.ssh/known_hosts")" "^\[127.0.0.1\]:$(sshd_port staging-1) " "and writes nothing to known_hosts"
sed -i '/trust_new_host_keys/d' "$cfg"
sed -i 's/^  connect_timeout: 5s/  connect_timeout: 5s\n  trust_new_host_keys: true/' "$cfg"
out=$("$GANTRY" --config "$cfg" logs staging 2>&1)
is "$?" 0 "trust_new_host_keys: true accepts a new host"
like "$(cat "$HOME/.ssh/known_hosts")" "^\[127.0.0.1\]:$(sshd_port staging-1) ssh-ed25519 " "and records its key"
sed -i '/trust_new_host_keys/d' "$cfg"

# a login that is refused
: >"$SSHD_DIR/prod-2/authorized_keys"
out=$("$GANTRY" --config "$cfg" logs production --host "root@127.0.0.1:$(sshd_port prod-2)" 2>&1)
like "$out" "refused every key offered for user root .*authorized_keys" "a refused login says which user and what to check"
cp "$HOME/.ssh/id_ed25519.pub" "$SSHD_DIR/prod-2/authorized_keys"

# following through sshd's death: the gap is marked and the stream resumes
"$GANTRY" --config "$cfg" logs production -f --host "$p1" >"$work/follow.out" 2>"$work/follow.err" &
follow_pid=$!
wait_for "$work/follow.out" "one from prod-1" 10
sandbox_log prod-1 app "before the drop"
wait_for "$work/follow.out" "before the drop" 10
sshd_kill prod-1
check "the drop is noticed" wait_for "$work/follow.err" "connection lost; reconnecting" 10
sandbox_log prod-1 app "during the gap"
sshd_restart prod-1
check "the stream resumes after sshd is back, and says so" \
	wait_for "$work/follow.err" "resumed after [0-9]+s" 20
sandbox_log prod-1 app "after the gap"
wait_for "$work/follow.out" "after the gap" 10
like "$(cat "$work/follow.out")" "during the gap" "a line written during the gap is not lost"
is "$(grep -c 'before the drop' "$work/follow.out")" 1 "and the lines shown before are not repeated"
kill -INT $follow_pid
wait $follow_pid
is "$?" 130 "C-c ends gantry logs -f"

# The host's log command ends with gantry even while it writes nothing (as `docker compose
# logs -f` on a quiet app): OpenSSH refuses signal requests for a root login ("session
# signalling requires privilege separation"), so only the runner's tie to the channel,
# which ends the command's whole process group, can end it.
is "$(id -u)" 0 "the sandbox's sshd logs in as root"
sed -i 's/^    migrator: .*/    migrator: echo quiet log {tail}; sleep 271/' "$cfg"
"$GANTRY" --config "$cfg" logs production migrator -f --host "$p1" >"$work/quiet.out" 2>&1 &
follow_pid=$!
wait_for "$work/quiet.out" "quiet log" 10
isnt "$(pgrep -f "sleep 271")" "" "a quiet log command runs on the host while gantry follows"
kill -INT $follow_pid
wait $follow_pid
gone() {
	local i
	for i in $(seq 1 100); do
		pgrep -f "sleep 271" >/dev/null || return 0
		sleep 0.05
	done
	diag "still running on the host:" "$(pgrep -af 'sleep 271')"
	return 1
}
check "and it ends on the host with gantry (within 5 s)" gone

# the key in another file, no agent: identity_file, or IdentityFile in ~/.ssh/config
mv "$HOME/.ssh/id_ed25519" "$work/deploy_key"
out=$("$GANTRY" --config "$cfg" logs staging 2>&1)
is "$?" 4 "with the key moved away, the login is refused"
sed -i "s|^  connect_timeout: 5s|  connect_timeout: 5s\n  identity_file: $work/deploy_key|" "$cfg"
out=$("$GANTRY" --config "$cfg" logs staging 2>&1)
is "$?" 0 "identity_file under defaults logs in with that key"
sed -i '/identity_file/d' "$cfg"
printf 'Host 127.0.0.1\n  IdentityFile %s\n' "$work/deploy_key" >"$HOME/.ssh/config"
out=$("$GANTRY" --config "$cfg" logs staging 2>&1)
is "$?" 0 "IdentityFile from ~/.ssh/config is honoured"
rm -f "$HOME/.ssh/config"
mv "$work/deploy_key" "$HOME/.ssh/id_ed25519"
done_testing
