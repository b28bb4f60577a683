# gantry's host-side runner: the second half of every run.sh gantry writes to a host.
# The first half (written per run by src/runscript.c) sets GANTRY_* variables and the
# steps; this half takes the lock, records the run in the history, and runs the steps
# detached from the SSH session, so a run finishes even if gantry or the link dies.
#
#   sh .gantry/runs/ID/run.sh start    lock, record the start, detach; prints one of
#                                      STARTED ID | LOCKED <owner lines> | FROZEN <lines>
#   sh .gantry/runs/ID/run.sh run      (detached) the steps, then the end record
#   sh .gantry/runs/ID/run.sh follow   events on stderr, output on stdout, until the end
# and the helpers a step may call (as {gantry} in a step template):
#   write-env KEY=VALUE...             deploy.env with these keys set, the others kept,
#                                      written to a temp file and renamed; the old one
#                                      kept as deploy.env.prev
#   wait-ready URL TIMEOUT INTERVAL    GET URL until it answers 2xx, or fail after TIMEOUT s
#   http-check URL STATUS              GET URL must answer STATUS
#
# Files under the deploy directory:
#   .gantry/lock/         held while a run runs: made aside whole and renamed into place
#                         (the atomic test-and-set); owner: key=value lines, run= its
#                         token; pid: the runner's pid
#   .gantry/freeze        present while deploys and promotions are frozen (key=value
#                         lines); rollbacks still run
#   .gantry/history.jsonl one JSON object per line: a start record and an end record per run
#   .gantry/current       the id of the last run started
#   .gantry/runs/ID/      run.sh, events (written by the runner only), output (steps' output),
#                         deploy.env.before: put back when the run stops before its switch
# The runner's files are created with umask 077 (.gantry 0700, the files 0600); the steps
# run with the login's umask, kept in GANTRY_UMASK by the start command.
# Events, one per line: "<epoch ms> <word> ...":
#   run start | step N start | step N end STATUS MS | cancel accepted|refused |
#   rollback start | run end RESULT
# POSIX sh plus date, mkdir, mktemp, mv (with -T), cp, cmp, grep, sync, setsid and timeout
# (coreutils or busybox), and curl or wget for the HTTP helpers.

set -u
G=.gantry
R=$G/runs/$GANTRY_RUN

now_ms() {
	ms=$(date +%s%3N 2>/dev/null)
	case $ms in *N|'') ms=$(($(date +%s) * 1000)) ;; esac
	echo "$ms"
}

event() {
	printf '%s %s\n' "$(now_ms)" "$*" >>"$R/events"
}

# history_append JSON: one line, on disk before the run goes on
history_append() {
	printf '%s\n' "$1" >>"$G/history.jsonl" || return 1
	sync "$G/history.jsonl" 2>/dev/null || sync
}

# lock_take: the lock appears whole. Its directory is made aside with the owner record
# and a pid (this start command's, until the runner's replaces it) and renamed into place,
# so no one ever sees a lock without its owner or breaks one whose run is alive.
# Returns 1 when another run holds it, 2 when it cannot be made.
lock_take() {
	t=$(mktemp -d "$G/lock.XXXXXX") || return 2
	if ! {
		printf 'owner=%s\n' "$GANTRY_OPERATOR"
		printf 'since=%s\n' "$(date +%s)"
		printf 'run=%s\n' "$GANTRY_RUN"
		printf 'message=%s\n' "$GANTRY_LOCK_MESSAGE"
	} >"$t/owner" || ! echo $$ >"$t/pid"; then
		rm -rf "$t"
		return 2
	fi
	mv -f -T "$t" "$G/lock" 2>/dev/null && lock_ours && return 0
	rm -rf "$t"
	return 1
}

# lock_ours: the lock holds this run's id (the token only its run releases it with)
lock_ours() {
	grep -qxF "run=$GANTRY_RUN" "$G/lock/owner" 2>/dev/null
}

# lock_release: only the run whose token the lock holds lets it go: a lock broken and
# taken by another run meanwhile stays. Renamed away first, so it goes at once.
lock_release() {
	lock_ours || return 0
	mv -f -T "$G/lock" "$G/lock.released.$GANTRY_RUN" 2>/dev/null &&
		rm -rf "$G/lock.released.$GANTRY_RUN"
}

# gantry_dir_safe: .gantry is a real directory of this user that nobody else can write,
# and the files the runner appends to are not symlinks; else says why, returns 1
gantry_dir_safe() {
	if [ -L "$G" ] || [ ! -d "$G" ]; then
		echo "$(pwd)/$G is not a directory gantry made (a symlink or a file): not used"
		return 1
	fi
	set -- $(stat -c '%u %a' "$G")
	if [ "$1" != "$(id -u)" ]; then
		echo "$(pwd)/$G belongs to uid $1, not to this login (uid $(id -u)): not used"
		return 1
	fi
	case $2 in
	*[2367] | *[2367]?)
		echo "$(pwd)/$G can be written by other users (mode $2): not used; chmod 700 it"
		return 1 ;;
	esac
	for f in "$G/history.jsonl" "$G/current" "$G/runs" "$G/lock"; do
		if [ -L "$f" ]; then
			echo "$(pwd)/$f is a symlink: not followed"
			return 1
		fi
	done
	return 0
}

cmd_start() {
	mkdir -p "$G/runs" || exit 70
	gantry_dir_safe || exit 70
	chmod 700 "$G" "$G/runs" 2>/dev/null
	[ -f "$G/history.jsonl" ] && chmod 600 "$G/history.jsonl" 2>/dev/null
	# a freeze blocks every run but a rollback (the same rule gantry applies when it plans)
	if [ "$GANTRY_ACTION" != rollback ] && [ -e "$G/freeze" ]; then
		echo FROZEN
		cat "$G/freeze"
		exit 76
	fi
	lock_take
	case $? in
	1)
		echo LOCKED
		head -c 4096 "$G/lock/owner" 2>/dev/null
		exit 75 ;;
	2)
		echo "cannot make the lock in $(pwd)/$G" >&2
		exit 70 ;;
	esac
	# an environment gantry never ran on: the baseline it adopts comes first
	if [ -n "${GANTRY_ADOPT_JSON:-}" ] && ! grep -qE '"event":"(start|adopt)"' "$G/history.jsonl" 2>/dev/null; then
		history_append "$GANTRY_ADOPT_JSON"
	fi
	if ! history_append "$GANTRY_START_JSON"; then
		lock_release
		echo "cannot write $G/history.jsonl" >&2
		exit 70
	fi
	echo "$GANTRY_RUN" >"$G/current"
	: >"$R/events"
	: >"$R/output"
	setsid sh "$R/run.sh" run </dev/null >>"$R/output" 2>&1 &
	echo $! >"$G/lock/pid.tmp" && mv -f "$G/lock/pid.tmp" "$G/lock/pid"
	echo "STARTED $GANTRY_RUN"
}

# on_cancel: the USR1 trap. gantry touches $R/cancel, then signals the runner. Before the
# switch the running step is stopped and the run ends cancelled; after it, the cancel is
# refused and the run goes on. The trap acts by itself, so a signal that arrives between
# two commands (not during a wait) is not lost.
on_cancel() {
	printf '==> cancel asked\n'
	[ -e "$R/cancel" ] || return 0
	if [ "$switched" = 0 ]; then
		if [ "$cancelled" = 0 ]; then
			event cancel accepted
			cancelled=1
		fi
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	else
		event cancel refused
		rm -f "$R/cancel"
	fi
	return 0
}

# run_steps PREFIX COUNT: runs steps PREFIX_1..COUNT; sets rc_steps (0, or the failing
# status), failed_step and steps_json; honours a cancel before the switch
run_steps() {
	prefix=$1
	count=$2
	i=1
	rc_steps=0
	failed_step=0
	while [ "$i" -le "$count" ]; do
		eval "name=\${${prefix}_name_$i} cmd=\${${prefix}_cmd_$i}"
		eval "json=\${${prefix}_json_$i} tmo=\${${prefix}_timeout_$i} sw=\${${prefix}_switch_$i}"
		if [ "$switched" = 0 ] && [ -e "$R/cancel" ] && [ "$cancelled" = 0 ]; then
			event cancel accepted
			cancelled=1
		fi
		[ "$cancelled" = 1 ] && return 0
		[ "$sw" = 1 ] && switched=1
		event "$prefix $i start"
		printf '==> [%s %s/%s] %s\n' "$prefix" "$i" "$count" "$name"
		t0=$(now_ms)
		# the steps create files as the login's umask says; the runner's own are 077
		timeout -k 10 "$tmo" sh -c "umask ${GANTRY_UMASK:-022}; $cmd" </dev/null &
		pid=$!
		# a cancel accepted while the step was being started
		[ "$cancelled" = 1 ] && kill -TERM "$pid" 2>/dev/null
		while :; do
			wait "$pid"
			rc=$?
			# a signal to the runner (the trap has run), not the step's end
			[ "$rc" -gt 128 ] && kill -0 "$pid" 2>/dev/null && continue
			break
		done
		pid=
		ms=$(($(now_ms) - t0))
		event "$prefix $i end $rc $ms"
		printf '==> exit %s after %s ms\n' "$rc" "$ms"
		[ -n "$steps_json" ] && steps_json="$steps_json,"
		steps_json="$steps_json{\"phase\":\"$prefix\",\"name\":$json,\"exit\":$rc,\"ms\":$ms}"
		eval "mig=\${${prefix}_migration_$i:-0}"
		[ "$rc" = 0 ] && [ "$mig" = 1 ] && [ "$prefix" = step ] && migrated=true
		[ "$cancelled" = 1 ] && return 0
		if [ "$rc" -ne 0 ]; then
			[ "$rc" = 124 ] && printf '==> timed out after %ss\n' "$tmo"
			rc_steps=$rc
			failed_step=$i
			return 0
		fi
		i=$((i + 1))
	done
}

# http_status URL: prints the status of a GET (000 when nothing answered)
http_status() {
	if command -v curl >/dev/null 2>&1; then
		curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$1"
	else
		code=$(wget -q -S -O /dev/null -T 10 "$1" 2>&1 | sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' | tail -n 1)
		echo "${code:-000}"
	fi
}

cmd_write_env() {
	# a name of its own (mktemp), never a fixed one that a planted symlink could take
	tmp=$(mktemp deploy.env.XXXXXX) || exit 1
	# the new file keeps the old one's mode (mktemp makes 0600)
	[ -f deploy.env ] && chmod "$(stat -c %a deploy.env)" "$tmp" 2>/dev/null
	if [ -f deploy.env ]; then
		while IFS= read -r line || [ -n "$line" ]; do
			key=${line%%=*}
			key=${key#export }
			keep=1
			for kv in "$@"; do
				[ "$key" = "${kv%%=*}" ] && keep=0
			done
			[ "$keep" = 1 ] && printf '%s\n' "$line" >>"$tmp"
		done <deploy.env
	fi
	for kv in "$@"; do
		printf '%s\n' "$kv" >>"$tmp"
	done
	sync "$tmp" 2>/dev/null || sync
	if [ -f deploy.env ]; then
		# the copy is renamed over deploy.env.prev: a symlink there is replaced, not followed
		prev=$(mktemp deploy.env.XXXXXX) || exit 1
		cp -p deploy.env "$prev" && mv -f "$prev" deploy.env.prev || { rm -f "$prev"; exit 1; }
	fi
	mv -f "$tmp" deploy.env || exit 1
	for kv in "$@"; do
		printf '%s\n' "$kv"
	done
}

cmd_wait_ready() {
	url=$1
	limit=$2
	every=$3
	t0=$(date +%s)
	last=
	while :; do
		code=$(http_status "$url")
		case $code in
		2??) echo "ready: $url answered $code after $(($(date +%s) - t0))s"; return 0 ;;
		esac
		if [ "$code" != "$last" ]; then
			echo "not ready yet: $url answered $code"
			last=$code
		fi
		if [ $(($(date +%s) - t0)) -ge "$limit" ]; then
			echo "not ready after ${limit}s: $url last answered $code"
			return 1
		fi
		sleep "$every"
	done
}

cmd_http_check() {
	code=$(http_status "$1")
	if [ "$code" = "$2" ]; then
		echo "ok: $1 answered $code"
		return 0
	fi
	echo "failed: $1 answered $code, expected $2"
	return 1
}

# env_keep: deploy.env (and deploy.env.prev) as they are before the steps, times kept
env_keep() {
	for f in deploy.env deploy.env.prev; do
		rm -f "$R/$f.before"
		[ -f "$f" ] && cp -p "$f" "$R/$f.before"
	done
}

# env_restore: after a run that stopped before its switch, deploy.env and deploy.env.prev
# go back to what they were, each by a rename, so deploy.env keeps naming what runs;
# says so when anything changed
env_restore() {
	changed=0
	for f in deploy.env deploy.env.prev; do
		if [ -f "$R/$f.before" ]; then
			cmp -s "$R/$f.before" "$f" 2>/dev/null && continue
			t=$(mktemp "$f.XXXXXX") || return 1
			cp -p "$R/$f.before" "$t" && mv -f "$t" "$f" || { rm -f "$t"; return 1; }
			changed=1
		elif [ -e "$f" ]; then
			rm -f "$f" || return 1
			changed=1
		fi
	done
	sync
	if [ "$changed" = 1 ]; then
		printf '==> the app was not switched: deploy.env put back as it was before the run\n'
	fi
	return 0
}

cmd_run() {
	switched=0
	cancelled=0
	pid=
	trap on_cancel USR1
	trap '' HUP
	migrated=false
	steps_json=
	env_keep
	event run start
	run_steps step "$GANTRY_STEPS"
	if [ "$switched" = 1 ]; then sw_json=true; else sw_json=false; fi
	if [ "$cancelled" = 1 ]; then
		result=cancelled
	elif [ "$rc_steps" = 0 ]; then
		result=succeeded
	elif [ "$switched" = 1 ] && [ "$GANTRY_ROLLBACK_STEPS" -gt 0 ]; then
		failed=$failed_step
		event rollback start
		printf '==> step %s failed (exit %s): rolling back to %s\n' "$failed" "$rc_steps" "$GANTRY_ROLLBACK_TAG"
		run_steps rollback "$GANTRY_ROLLBACK_STEPS"
		failed_step=$failed
		if [ "$rc_steps" = 0 ]; then result=rolled_back; else result=rollback_failed; fi
	else
		result=failed
	fi
	restored=false
	if [ "$switched" = 0 ] && [ "$result" != succeeded ]; then
		if env_restore; then
			restored=true
		else
			printf '==> deploy.env could not be put back; it may name a tag that does not run\n'
		fi
	fi
	history_append "{\"id\":\"$GANTRY_RUN\",\"event\":\"end\",\"ended\":$(date +%s),\"result\":\"$result\",\"failed_step\":$failed_step,\"migrated\":$migrated,\"switched\":$sw_json,\"restored\":$restored,\"steps\":[$steps_json]}"
	lock_release
	event run end "$result"
	printf '==> run %s ended: %s\n' "$GANTRY_RUN" "$result"
}

# follow: the events on stderr and the output on stdout, from the start, until the run
# has ended (or a signal)
cmd_follow() {
	if [ ! -f "$R/events" ]; then
		echo "no run $GANTRY_RUN in $(pwd)/$G/runs" >&2
		exit 1
	fi
	tail -n +1 -f "$R/events" >&2 &
	e=$!
	tail -n +1 -f "$R/output" &
	o=$!
	trap 'kill $e $o 2>/dev/null; exit 0' TERM HUP INT
	while kill -0 "$e" 2>/dev/null; do
		if grep -q ' run end ' "$R/events"; then
			sleep 1
			kill "$e" "$o" 2>/dev/null
			exit 0
		fi
		sleep 1
	done
}

case "${1:-}" in
start) cmd_start ;;
run) cmd_run ;;
follow) cmd_follow ;;
write-env) shift; cmd_write_env "$@" ;;
wait-ready) cmd_wait_ready "$2" "$3" "$4" ;;
http-check) cmd_http_check "$2" "$3" ;;
*) echo "usage: sh run.sh start|run|follow|write-env|wait-ready|http-check" >&2; exit 2 ;;
esac
