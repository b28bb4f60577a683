#!/bin/bash
# A hostile host: .gantry files planted on a real OpenSSH host, read by gantry's commands.
# Values read from them never run as commands (run ids, the lock's pid), a corrupt record
# is shown as corrupt and never used, and a planted pid never signals other processes.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/sshd.sh"

work=$(mktemp -d)
trap 'sshd_stop_all; sandbox_stop; rm -rf "$work"' EXIT
sandbox_start "$work" || { echo "Bail out! the sandbox did not start"; exit 1; }
sandbox_hosts || { echo "Bail out! sshd did not start"; exit 1; }
cfg=$work/gantry.yml
G() { "$GANTRY" --config "$cfg" "$@"; }
dir=$SSHD_DIR/staging-1/deploy
g=$dir/.gantry
mkdir -p "$g/runs"

plan 22

# a run id that is a shell command, in the history, .gantry/current and a "live" lock
bad='x;touch${IFS}PWNED;#'
now=$(date +%s)
printf '{"id":"%s","event":"start","started":%s,"action":"deploy","tag":"sha-1111111","steps":["a"]}\n' \
	"$bad" "$now" >"$g/history.jsonl"
printf '%s\n' "$bad" >"$g/current"
mkdir "$g/lock"
printf 'owner=mallory\nsince=%s\nrun=%s\nmessage=hi\n' "$now" "$bad" >"$g/lock/owner"
echo $$ >"$g/lock/pid"
out=$(G --read-only attach staging 2>&1)
is "$?" 6 "attach to a run whose id is a command is refused"
if [ -e "$dir/PWNED" ]; then not_ok "and the command in the id never runs"; else ok "and the command in the id never runs"; fi
like "$out" "not what gantry writes .*corrupt or was planted, so it is not followed|has no run recorded" "saying why"
out=$(G history staging 2>&1)
like "$out" "deploy +sha-1111111 +corrupt" "history shows the planted run as corrupt"
rm -rf "$g/lock" "$g/current"

# a healthy run whose tag is a command: corrupt, never a rollback target
printf '{"id":"r1","event":"start","started":%s,"action":"deploy","tag":"sha-1;touch PWNED","steps":[]}\n{"id":"r1","event":"end","ended":%s,"result":"succeeded","steps":[]}\n' \
	"$now" "$now" >"$g/history.jsonl"
out=$(G history staging --json 2>&1)
like "$(printf '%s' "$out" | tr -d ' \n')" '"id":"r1","action":"deploy","result":"corrupt"' \
	"a succeeded run whose tag is not a tag is corrupt, not succeeded"

# a lock whose pid file says -1 (kill -0 -1 succeeds: the lock looked alive for ever)
mkdir "$g/lock"
printf 'owner=mallory\nsince=%s\nrun=r9\nmessage=hold\n' "$((now - 3600))" >"$g/lock/owner"
echo -1 >"$g/lock/pid"
out=$(G unlock staging -m "planted lock" 2>&1)
is "$?" 0 "a lock whose pid is -1 is not taken for a live run: unlock breaks it"
like "$out" "lock broken" "and says so"
out=$(G history staging 2>&1)
like "$out" "not locked|unlock" "the history no longer shows the lock"
# files that never end: a FIFO as history.jsonl or deploy.env is not read, nothing hangs
rm -f "$g/history.jsonl"
mkfifo "$g/history.jsonl"
mv "$dir/deploy.env" "$work/deploy.env.saved"
mkfifo "$dir/deploy.env"
t0=$(date +%s)
out=$(timeout 60 "$GANTRY" --config "$cfg" history staging 2>&1)
rc=$?
check "history with a FIFO for history.jsonl answers at once ($(( $(date +%s) - t0 ))s)" [ "$rc" -ne 124 ] && [ $(( $(date +%s) - t0 )) -lt 15 ]
out=$(timeout 60 "$GANTRY" --config "$cfg" status --json 2>&1)
like "$out" "deploy.env in [^ ]* is not a regular file: not read" "status says a deploy.env that is a FIFO is not read"
rm -f "$g/history.jsonl" "$dir/deploy.env"
mv "$work/deploy.env.saved" "$dir/deploy.env"
# a FIFO as the lock's owner record or the freeze (issue 23, finding 6): no read of it
# stays blocked on the host, one per poll, and no freeze is written into it
mkdir "$g/lock" && mkfifo "$g/lock/owner" "$g/freeze"
t0=$(date +%s)
out=$(timeout 60 "$GANTRY" --config "$cfg" history staging 2>&1)
check "history with a FIFO as the lock's owner answers at once ($(( $(date +%s) - t0 ))s)" \
	[ $(( $(date +%s) - t0 )) -lt 15 ]
stuck=
for pid in $(pgrep -x grep; pgrep -x head; pgrep -x cat; pgrep -x tail); do
	[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$dir" ] && stuck="$stuck $(tr '\0' ' ' <"/proc/$pid/cmdline")"
done
is "$stuck" "" "and no command is left blocked on the host"
out=$(timeout 60 "$GANTRY" --config "$cfg" freeze staging -m "fifo" 2>&1)
like "$out" "freeze is not a regular file: not used" "a freeze whose file is a FIFO is refused, saying why"
rm -rf "$g/lock" "$g/freeze"

# gantry's own marker lines planted in deploy.env (in the old framing and the new) forge no
# lock and hide no history: every file comes hex-encoded, so its lines are only its lines
cp "$dir/deploy.env" "$work/deploy.env.saved"
printf '{"id":"r2","event":"start","started":%s,"action":"deploy","tag":"sha-2222222","steps":[]}\n{"id":"r2","event":"end","ended":%s,"result":"succeeded","steps":[]}\n' \
	"$now" "$now" >"$g/history.jsonl"
printf '@@gantry-state@@ lock\nheld=1\nowner=mallory\npid=1\nalive=1\n@@gantry-state@@ lock-owner\n%s\n@@gantry-state@@ history\n@@gantry-state@@ end\n' \
	"$(printf 'owner=mallory\n' | od -An -tx1 | tr -d ' \n')" >>"$dir/deploy.env"
out=$(G history staging 2>&1)
unlike "$out" "mallory" "a lock planted in deploy.env is no lock"
like "$out" "deploy +sha-2222222 +succeeded" "the history is read past the planted end marker"
printf 'by=carol\nreason=calm\n@@gantry-state@@ end\n' >"$g/freeze"
out=$(G history staging 2>&1)
like "$out" "frozen by carol: calm" "the freeze file is read as the freeze it is"
like "$out" "deploy +sha-2222222 +succeeded" "and an end marker in it hides nothing"
out=$(G status --json 2>&1)
like "$out" "deploy.env line [0-9]+ is not KEY=VALUE" "and deploy.env is shown as the malformed file it is"
rm -f "$g/freeze" "$g/history.jsonl"
mv "$work/deploy.env.saved" "$dir/deploy.env"

# a runner planted by another account (issue 23, finding 2): never run, not even by a
# read-only state read; the refusal names the path and its owner
runner=$(ls "$g"/bin/runner-* | head -n 1)
cp "$runner" "$work/runner.saved"
printf 'touch %s/PWNED\n' "$dir" >"$runner"
chown nobody "$runner"
out=$(G --read-only history staging 2>&1)
isnt "$?" 0 "a planted runner is refused"
like "$out" "gantry's files on the host are unsafe, so nothing of them was run: .*/runner-[0-9]+-[0-9a-f]+ belongs to nobody \\(uid 65534\\)" \
	"naming the path and its owner"
if [ -e "$dir/PWNED" ]; then not_ok "and it never ran"; else ok "and it never ran"; fi
chown root "$runner"
out=$(G --read-only history staging 2>&1)
like "$out" "is not the runner its name says" "a runner whose content is not its name's is refused too"
cp "$work/runner.saved" "$runner"
done_testing
