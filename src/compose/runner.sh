# gantry's runner: the one program gantry runs on a host. gantry sends it with a preamble
# of the contract's names (exit statuses EX_*, results R_*, markers M_*, files G_*, limits
# N_*), made from src/compose/runner.h; this file uses those names, never the values.
#
# Installed at .gantry/bin/runner-PROTOCOL-HASH (sh RUNNER SUBCOMMAND ARGS...):
#   version                            "gantry-runner PROTOCOL"
#   install PATH                       writes $GANTRY_PROGRAM to PATH (under .gantry/bin)
#   state | watch                      the framed state (watch: without the history)
#   follow RUN                         the run's events on stderr, output on stdout, to its end
#   cancel RUN                         asks that run's runner to stop (before its switch)
#   adopt RECORD                       the baseline record, where no run was recorded
#   freeze OPERATOR REASON NOTE | unfreeze NOTE | unlock NOTE
#   lease RUN ACTION OPERATOR MESSAGE PLAN
#                                      a run over several hosts: the lock taken for it on
#                                      every host before its first step, its plan kept in
#                                      it; prints LOCKED or FROZEN as start does
#   release RUN                        that run's lease let go, after its last host
#   drive RUN TOKEN RECORD ACK         a rollout's driver named beside RUN's lease (renewed,
#                                      or let go); LOCKED when another's beat is fresh;
#                                      clears the request ACK, prints the one waiting
#   ask RUN REQUEST                    a request for that driver (pause, resume, abort)
#   http-get URL MAX                   the body of a 2xx answer
#   tied COMMAND                       COMMAND in a process group of its own, ended with
#                                      its whole group when stdin ends (gantry's channel
#                                      closed): SSH signals are refused for root logins
#   compose-check COMPOSE              COMPOSE config -q (tied), once deploy.env is there
# In a run's run.sh (written per run by src/compose/runscript.c: GANTRY_* variables and the steps,
# then this program), which takes the lock, records the run and runs the steps detached
# from the SSH session, so a run finishes even if gantry or the link dies:
#   sh .gantry/runs/ID/run.sh start    lock, record the start, detach; prints one of
#                                      STARTED ID | LOCKED <owner lines> | FROZEN <lines>
#   sh .gantry/runs/ID/run.sh run      (detached) the steps, then the end record
#   sh .gantry/runs/ID/run.sh follow   as follow RUN
# and the helpers a step may call (as {gantry} in a step template):
#   write-env KEY=VALUE...             deploy.env with these keys set, the others kept,
#                                      written to a temp file and renamed; the old one
#                                      kept as deploy.env.prev
#   wait-ready URL TIMEOUT INTERVAL    GET URL until it answers 2xx, or fail after TIMEOUT s
#   http-check URL STATUS              GET URL must answer STATUS
#
# Files under the deploy directory:
#   .gantry/bin/          the runner, one file per version
#   .gantry/lock/         held while a run runs: made aside whole and renamed into place
#                         (the atomic test-and-set); owner: key=value lines, run= its
#                         token; pid: the runner's pid. A lease (a run over several
#                         hosts) is the lock held from before the first host's run to
#                         after the last's, plan: the run's plan (src/lease.h); each
#                         host's run (GANTRY_LEASE names the lease) runs under it
#   .gantry/freeze        present while deploys and promotions are frozen (key=value
#                         lines); rollbacks still run
#   .gantry/history.jsonl one JSON object per line: a start record and an end record per run
#   .gantry/current       the id of the last run started
#   .gantry/runs/ID/      run.sh, events (written by the runner only), output (steps' output),
#                         deploy.env.before: put back when the run stops before its switch,
#                         started/: made once, by the start that runs it
# The runner's files are created with umask 077 (.gantry 0700, the files 0600); the steps
# run with the login's umask, kept in GANTRY_UMASK by the start command.
# Events, one per line: "<epoch ms> <word> ...":
#   run start | step N start | step N end STATUS MS | cancel accepted|refused |
#   rollback start | run end RESULT
# POSIX sh plus date, mkdir, mktemp, mv (with -T), cp, cmp, grep, od, sync, setsid and
# timeout (coreutils or busybox), and curl or wget for the HTTP helpers.

set -u
R=$G_RUNS/${GANTRY_RUN:-}

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
	printf '%s\n' "$1" >>"$G_HISTORY" || return 1
	sync "$G_HISTORY" 2>/dev/null || sync
}

# lock_take [PLAN]: the lock appears whole. Its directory is made aside with the owner
# record and a pid (this start command's, until the runner's replaces it), or a lease's
# PLAN, and renamed into place, so no one ever sees a lock without its owner or breaks one
# whose run is alive. Returns 1 when another run holds it, 2 when it cannot be made.
lock_take() {
	t=$(mktemp -d "$G_LOCK.XXXXXX") || return 2
	if ! {
		printf 'owner=%s\n' "$GANTRY_OPERATOR"
		printf 'since=%s\n' "$(date +%s)"
		printf 'run=%s\n' "$GANTRY_RUN"
		printf 'message=%s\n' "$GANTRY_LOCK_MESSAGE"
	} >"$t/owner"; then
		rm -rf "$t"
		return 2
	fi
	if [ $# -gt 0 ]; then
		printf '%s\n' "$1" >"$t/plan"
	else
		echo $$ >"$t/pid"
	fi || { rm -rf "$t"; return 2; }
	# never onto an existing lock, not even an empty directory (rename would replace it)
	mv -n -T "$t" "$G_LOCK" 2>/dev/null && lock_ours && return 0
	rm -rf "$t"
	return 1
}

# lock_ours: the lock holds this run's id, or the id of the lease it runs under (the
# token only its run releases it with)
lock_ours() {
	[ -f "$G_LOCK/owner" ] && grep -qxF "run=${GANTRY_LEASE:-$GANTRY_RUN}" "$G_LOCK/owner" 2>/dev/null
}

# lock_release: only the run whose token the lock holds lets it go: a lock broken and
# taken by another run meanwhile stays. Renamed away first, so it goes at once.
lock_release() {
	lock_ours || return 0
	mv -f -T "$G_LOCK" "$G_LOCK.released.$GANTRY_RUN" 2>/dev/null &&
		rm -rf "$G_LOCK.released.$GANTRY_RUN"
}

# path_own PATH: PATH belongs to this login and nobody else can write it; else says why,
# returns 1
path_own() {
	set -- $(stat -c '%u %a %U' "$1") "$1"
	if [ "$1" != "$(id -u)" ]; then
		echo "$(pwd)/$4 belongs to $3 (uid $1), not to this login (uid $(id -u)): not used"
		return 1
	fi
	case $2 in
	*[2367] | *[2367]?)
		echo "$(pwd)/$4 can be written by other users (mode $2): not used; chmod 700 it"
		return 1 ;;
	esac
	return 0
}

# gantry_dir_safe: .gantry is a real directory of this user that nobody else can write,
# and the files the runner appends to are not symlinks; else says why, returns 1
gantry_dir_safe() {
	if [ -L "$G" ] || [ ! -d "$G" ]; then
		echo "$(pwd)/$G is not a directory gantry made (a symlink or a file): not used"
		return 1
	fi
	path_own "$G" || return 1
	for f in "$G_HISTORY" "$G_CURRENT" "$G_RUNS" "$G_LOCK"; do
		if [ -L "$f" ]; then
			echo "$(pwd)/$f is a symlink: not followed"
			return 1
		fi
	done
	# a FIFO or device in their place would block every read and append
	for f in "$G_HISTORY" "$G_CURRENT" "$G_FREEZE"; do
		if [ -e "$f" ] && [ ! -f "$f" ]; then
			echo "$(pwd)/$f is not a regular file: not used"
			return 1
		fi
	done
	return 0
}

# frozen_check: a freeze blocks every run but a rollback (the rule gantry applies when
# it plans)
frozen_check() {
	if [ "$GANTRY_ACTION" != rollback ] && [ -e "$G_FREEZE" ]; then
		echo "$M_FROZEN"
		[ -f "$G_FREEZE" ] && head -c 4096 "$G_FREEZE"
		exit "$EX_FROZEN"
	fi
}

# locked: the start (or lease) refused, with the lock's owner
locked() {
	echo "$M_LOCKED"
	[ -f "$G_LOCK/owner" ] && head -c 4096 "$G_LOCK/owner" 2>/dev/null
	exit "$EX_LOCKED"
}

# lease RUN ACTION OPERATOR MESSAGE PLAN: the lock taken for a run over several hosts
# before its first step, its plan kept in it; already this run's (a retry), it stands
cmd_lease() {
	run_id_ok "$1" || usage
	GANTRY_RUN=$1 GANTRY_ACTION=$2 GANTRY_OPERATOR=$3 GANTRY_LOCK_MESSAGE=$4
	GANTRY_LEASE=
	umask 077
	mkdir -p "$G_RUNS" || exit "$EX_UNSAFE"
	gantry_dir_safe || exit "$EX_UNSAFE"
	chmod 700 "$G" "$G_RUNS" 2>/dev/null
	[ -d "$G_LOCK" ] && lock_ours && [ -f "$G_LOCK/plan" ] && exit 0
	frozen_check
	lock_take "$5"
	case $? in
	1) locked ;;
	2)
		echo "cannot make the lock in $(pwd)/$G" >&2
		exit "$EX_UNSAFE" ;;
	esac
}

# release RUN: that run's lease let go, once no run of it is alive here
cmd_release() {
	run_id_ok "$1" || usage
	GANTRY_RUN=$1
	GANTRY_LEASE=
	admin_safe
	if ! [ -d "$G_LOCK" ] || ! lock_ours; then
		echo "the lock is not run $1's lease: nothing to let go"
		exit "$EX_NOT_NEEDED"
	fi
	lock_pid '(start|run)'
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		echo "a run is alive under the lease (pid $p): it is let go after it ends"
		exit "$EX_ALIVE"
	fi
	lock_release
}

cmd_start() {
	mkdir -p "$G_RUNS" || exit "$EX_UNSAFE"
	gantry_dir_safe || exit "$EX_UNSAFE"
	chmod 700 "$G" "$G_RUNS" 2>/dev/null
	[ -f "$G_HISTORY" ] && chmod 600 "$G_HISTORY" 2>/dev/null
	if [ -n "${GANTRY_LEASE:-}" ]; then
		# a run over several hosts: its lease, taken before the first, is the lock (the
		# freeze was checked then)
		if ! lock_ours; then
			locked
		fi
	else
		frozen_check
		lock_take
		case $? in
		1) locked ;;
		2)
			echo "cannot make the lock in $(pwd)/$G" >&2
			exit "$EX_UNSAFE" ;;
		esac
	fi
	# once per run: a second start of it (another gantry carrying the run on) follows it
	if ! mkdir "$R/started" 2>/dev/null; then
		echo "$M_STARTED $GANTRY_RUN"
		exit 0
	fi
	# an environment gantry never ran on: the baseline it adopts comes first
	if [ -n "${GANTRY_ADOPT_JSON:-}" ] && ! grep -qE '"event":"(start|adopt)"' "$G_HISTORY" 2>/dev/null; then
		history_append "$GANTRY_ADOPT_JSON"
	fi
	if ! history_append "$GANTRY_START_JSON"; then
		lock_release
		echo "cannot write $G_HISTORY" >&2
		exit "$EX_UNSAFE"
	fi
	echo "$GANTRY_RUN" >"$G_CURRENT"
	: >"$R/events"
	: >"$R/output"
	od -An -N8 -tx1 /dev/urandom | tr -d ' \n' >"$R/mark"
	setsid sh "$R/run.sh" run </dev/null >>"$R/output" 2>&1 &
	# the pid goes only into a lock that is still this run's
	lock_ours && echo $! >"$G_LOCK/pid.tmp" && mv -f "$G_LOCK/pid.tmp" "$G_LOCK/pid"
	echo "$M_STARTED $GANTRY_RUN"
}

# note_marks: the runner's own lines in a run's output start with "==>MARK " (NOTE),
# MARK made at the start and kept in $R/mark: the steps' output, in the same file,
# cannot pass for them. A run started before marks has none ("==> ").
note_marks() {
	mark=
	[ -f "$R/mark" ] && mark=$(head -c 32 "$R/mark")
	case $mark in *[!0-9a-f]*) mark= ;; esac
	NOTE="$M_NOTE_OPEN$mark "
	STEP_EXIT="$NOTE${M_STEP_EXIT#"$M_NOTE"}"
	RUN_MARK="$NOTE${M_RUN#"$M_NOTE"}"
}

# on_cancel: the USR1 trap. gantry touches $R/cancel, then signals the runner. Before the
# switch the running step is stopped and the run ends cancelled; after it, the cancel is
# refused and the run goes on. The trap acts by itself, so a signal that arrives between
# two commands (not during a wait) is not lost.
on_cancel() {
	printf '%scancel asked\n' "$NOTE"
	[ -e "$R/cancel" ] || return 0
	if [ "$switched" = 0 ]; then
		if [ "$cancelled" = 0 ]; then
			event "$V_CANCEL" "$V_ACCEPTED"
			cancelled=1
		fi
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	else
		event "$V_CANCEL" "$V_REFUSED"
		rm -f "$R/cancel"
	fi
	return 0
}

# run_steps PREFIX COUNT: runs steps PREFIX_1..COUNT (PREFIX: $V_STEP or $V_ROLLBACK, their
# events' word and run.sh's names for them); sets rc_steps (0, or the failing
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
			event "$V_CANCEL" "$V_ACCEPTED"
			cancelled=1
		fi
		[ "$cancelled" = 1 ] && return 0
		[ "$sw" = 1 ] && switched=1
		event "$prefix" "$i" "$V_START"
		printf '%s[%s %s/%s] %s\n' "$NOTE" "$prefix" "$i" "$count" "$name"
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
		event "$prefix" "$i" "$V_END" "$rc" "$ms"
		printf '%s%s after %s ms\n' "$STEP_EXIT" "$rc" "$ms"
		[ -n "$steps_json" ] && steps_json="$steps_json,"
		steps_json="$steps_json{\"phase\":\"$prefix\",\"name\":$json,\"exit\":$rc,\"ms\":$ms}"
		eval "mig=\${${prefix}_migration_$i:-0}"
		[ "$rc" = 0 ] && [ "$mig" = 1 ] && [ "$prefix" = "$V_STEP" ] && migrated=true
		[ "$cancelled" = 1 ] && return 0
		if [ "$rc" -ne 0 ]; then
			[ "$rc" = "$EX_TIMEOUT" ] && printf '%stimed out after %ss\n' "$NOTE" "$tmo"
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

# http-check URL STATUS [TEXT]: URL answers STATUS, and its body (the first MiB) holds TEXT
cmd_http_check() {
	if [ $# -lt 3 ]; then
		code=$(http_status "$1")
	else
		body=$(mktemp "${TMPDIR:-/tmp}/gantry-smoke.XXXXXX") || exit 1
		if command -v curl >/dev/null 2>&1; then
			code=$(curl -s -o "$body" -w '%{http_code}' --max-time 10 --max-filesize 1048576 "$1")
		else
			code=$(wget -q -S -O "$body" -T 10 "$1" 2>&1 | sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' | tail -n 1)
			code=${code:-000}
		fi
		found=0
		head -c 1048576 "$body" | grep -qF -e "$3" && found=1
		rm -f "$body"
	fi
	if [ "$code" != "$2" ]; then
		echo "failed: $1 answered $code, expected $2"
		return 1
	fi
	if [ $# -ge 3 ] && [ "$found" != 1 ]; then
		echo "failed: $1 answered $code, but its body does not contain \"$3\""
		return 1
	fi
	echo "ok: $1 answered $code${3:+, its body containing \"$3\"}"
	return 0
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
		printf '%sthe app was not switched: deploy.env put back as it was before the run\n' "$NOTE"
	fi
	return 0
}

cmd_run() {
	note_marks
	switched=0
	cancelled=0
	pid=
	trap on_cancel USR1
	trap '' HUP
	migrated=false
	steps_json=
	env_keep
	event "$V_RUN" "$V_START"
	run_steps "$V_STEP" "$GANTRY_STEPS"
	if [ "$switched" = 1 ]; then sw_json=true; else sw_json=false; fi
	if [ "$cancelled" = 1 ]; then
		result=$R_CANCELLED
	elif [ "$rc_steps" = 0 ]; then
		result=$R_SUCCEEDED
	elif [ "$switched" = 1 ] && [ "$GANTRY_ROLLBACK_STEPS" -gt 0 ]; then
		failed=$failed_step
		event "$V_ROLLBACK" "$V_START"
		printf '%sstep %s failed (exit %s): rolling back to %s\n' "$NOTE" "$failed" "$rc_steps" "$GANTRY_ROLLBACK_TAG"
		run_steps "$V_ROLLBACK" "$GANTRY_ROLLBACK_STEPS"
		failed_step=$failed
		if [ "$rc_steps" = 0 ]; then result=$R_ROLLED_BACK; else result=$R_ROLLBACK_FAILED; fi
	else
		result=$R_FAILED
	fi
	restored=false
	if [ "$switched" = 0 ] && [ "$result" != "$R_SUCCEEDED" ]; then
		if env_restore; then
			restored=true
		else
			printf '%sdeploy.env could not be put back; it may name a tag that does not run\n' "$NOTE"
		fi
	fi
	history_append "{\"id\":\"$GANTRY_RUN\",\"event\":\"end\",\"ended\":$(date +%s),\"result\":\"$result\",\"failed_step\":$failed_step,\"migrated\":$migrated,\"switched\":$sw_json,\"restored\":$restored,\"steps\":[$steps_json]}"
	if [ -n "${GANTRY_LEASE:-}" ]; then
		# the lease is held until the last host's run ends: gantry lets it go
		lock_ours && rm -f "$G_LOCK/pid"
	else
		lock_release
	fi
	event "$V_RUN" "$V_END" "$result"
	printf '%s%s%s%s\n' "$RUN_MARK" "$GANTRY_RUN" "$M_RUN_ENDED" "$result"
}

# follow [RUN]: that run's events on stderr and its output on stdout, from the start,
# until the run has ended (or a signal); without RUN, run.sh's own
cmd_follow() {
	if [ $# -gt 0 ]; then
		run_id_ok "$1" || usage
		GANTRY_RUN=$1
		R=$G_RUNS/$1
	fi
	if [ ! -f "$R/events" ]; then
		echo "no run $GANTRY_RUN in $(pwd)/$G_RUNS" >&2
		exit 1
	fi
	# the first line: the run's mark, by which gantry tells the runner's lines
	note_marks
	printf '%s%s\n' "$M_MARK_LINE" "$mark"
	tail -n +1 -f "$R/events" >&2 &
	e=$!
	tail -n +1 -f "$R/output" &
	o=$!
	trap 'kill $e $o 2>/dev/null; exit 0' TERM HUP INT
	while kill -0 "$e" 2>/dev/null; do
		if grep -q " $V_RUN $V_END " "$R/events"; then
			sleep 1
			kill "$e" "$o" 2>/dev/null
			exit 0
		fi
		sleep 1
	done
}

usage() {
	echo "usage: sh runner version|install|state|watch|follow|cancel|adopt|freeze|unfreeze|unlock|lease|release|drive|ask|http-get|tied|compose-check|start|run|write-env|wait-ready|http-check ARGS" >&2
	exit 2
}

# run_id_ok ID: the syntax of a run id (as src/value.c checks it)
run_id_ok() {
	case $1 in '' | [.-]* | *[!A-Za-z0-9._-]*) return 1 ;; esac
	[ ${#1} -le 64 ]
}

# lock_pid WHAT: p is the lock's pid when it is a live runner doing WHAT ("run", or
# "(start|run)"), else empty. The file is the host's: a number above 1 only (a planted
# "-1" must never signal every process or keep a lock alive), and, where /proc tells, a
# process running run.sh.
lock_pid() {
	p=
	[ -f "$G_LOCK/pid" ] && p=$(head -c 32 "$G_LOCK/pid")
	case $p in '' | *[!0-9]*) p= ;; esac
	if [ -n "$p" ] && ! [ "$p" -gt 1 ] 2>/dev/null; then p=; fi
	if [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] &&
		! tr '\000' ' ' <"/proc/$p/cmdline" | grep -qE "run\\.sh $1( |\$)"; then
		p=
	fi
}

# x: stdin as hex on one line ("" for nothing): what comes out of a file can never pass
# for a marker or a flag
x() {
	od -An -v -tx1 | tr -d ' \n'
	echo
}

part() {
	echo "$M_STATE$1"
}

# state [history]: the host's deploy state as framed parts (src/hoststate.c reads them)
cmd_state() {
	part "$P_NOW"
	date +%s
	part "$P_LOCK"
	r=
	if [ -d "$G_LOCK" ]; then
		echo "$F_HELD=1"
		lock_pid '(start|run)'
		if [ -n "$p" ]; then
			echo "$F_PID=1"
			kill -0 "$p" 2>/dev/null && echo "$F_ALIVE=1"
		fi
		[ -f "$G_LOCK/owner" ] && r=$(grep -m 1 '^run=' "$G_LOCK/owner" 2>/dev/null | cut -c 5-68)
		run_id_ok "$r" || r=
	fi
	part "$P_LOCK_OWNER"
	[ -d "$G_LOCK" ] && [ -f "$G_LOCK/owner" ] && head -c 4096 "$G_LOCK/owner" | x
	part "$P_LOCK_PLAN"
	[ -d "$G_LOCK" ] && [ -f "$G_LOCK/plan" ] && head -c "$N_LEASE_MAX" "$G_LOCK/plan" | x
	part "$P_LOCK_DRIVER"
	[ -d "$G_LOCK" ] && [ -f "$G_DRIVER" ] && head -c "$N_DRIVE_MAX" "$G_DRIVER" | x
	part "$P_LOCK_REQUEST"
	[ -d "$G_LOCK" ] && [ -f "$G_REQUEST" ] && head -c "$N_DRIVE_MAX" "$G_REQUEST" | x
	part "$P_FREEZE"
	[ -e "$G_FREEZE" ] && echo "$F_FROZEN=1"
	part "$P_FREEZE_FILE"
	[ -f "$G_FREEZE" ] && head -c 4096 "$G_FREEZE" | x
	part "$P_CURRENT"
	[ -f "$G_CURRENT" ] && head -c 100 "$G_CURRENT" | x
	part "$P_ENV_STATUS"
	if [ -f deploy.env ]; then
		head -c 1 deploy.env >/dev/null 2>&1
		echo $?
	elif [ -e deploy.env ]; then
		echo "$S_NOT_A_FILE"
	else
		echo "$S_MISSING"
	fi
	part "$P_ENV"
	[ -f deploy.env ] && head -c "$N_DEPLOYENV_READ" deploy.env | x
	part "$P_ENV_MTIME"
	[ -f deploy.env ] && stat -c %Y deploy.env
	part "$P_RUN_START"
	[ -n "$r" ] && [ -f "$G_HISTORY" ] && tail -c "$N_RUN_START_TAIL" "$G_HISTORY" 2>/dev/null | grep -F "\"$r\"" |
		grep -F '"start"' | tail -n 1 | head -c "$N_RUN_START_MAX" | x
	part "$P_RUN_EVENTS"
	[ -n "$r" ] && [ -f "$G_RUNS/$r/events" ] && tail -n 8 "$G_RUNS/$r/events" | head -c 2048 | x
	part "$P_CURRENT_RUN"
	c=
	[ -f "$G_CURRENT" ] && c=$(head -c 100 "$G_CURRENT")
	run_id_ok "$c" || c=
	[ -n "$c" ] && [ -f "$G_HISTORY" ] && tail -c "$N_RUN_START_TAIL" "$G_HISTORY" 2>/dev/null |
		grep -F "\"$c\"" | tail -n 2 | head -c "$N_RUN_START_MAX" | x
	if [ "${1:-}" = history ]; then
		part "$P_HISTORY_SIZE"
		[ -f "$G_HISTORY" ] && wc -c <"$G_HISTORY" 2>/dev/null
		part "$P_HISTORY"
		[ -f "$G_HISTORY" ] && tail -c "$N_HISTORY_TAIL" "$G_HISTORY" 2>/dev/null | x
	fi
	part "$P_END"
}

# install PATH: this program (in GANTRY_PROGRAM) at PATH, by a rename
cmd_install() {
	umask 077
	case $1 in "$G_BIN"/runner-*) ;; *) usage ;; esac
	if [ -L "$G" ]; then
		echo "$(pwd)/$G is a symlink: not used" >&2
		exit "$EX_UNSAFE"
	fi
	mkdir -p "$G" || exit "$EX_UNSAFE"
	gantry_dir_safe >&2 || exit "$EX_UNSAFE"
	mkdir -p "$G_BIN" || exit "$EX_UNSAFE"
	if [ -L "$G_BIN" ] || [ -L "$1" ]; then
		echo "$(pwd)/$G_BIN holds a symlink: not used" >&2
		exit "$EX_UNSAFE"
	fi
	path_own "$G_BIN" >&2 || exit "$EX_UNSAFE"
	t=$(mktemp "$G_BIN/.runner.XXXXXX") || exit "$EX_UNSAFE"
	printf '%s' "${GANTRY_PROGRAM:?}" >"$t" && mv -f "$t" "$1" || { rm -f "$t"; exit "$EX_UNSAFE"; }
}

# cancel RUN: only the runner of that run is signalled (the lock may be another's by now);
# the answer comes as an event of the run
cmd_cancel() {
	run_id_ok "$1" || usage
	if ! { [ -f "$G_LOCK/owner" ] && grep -qxF "run=$1" "$G_LOCK/owner" 2>/dev/null; }; then
		echo 'the lock names another run or none: nothing signalled'
		exit 1
	fi
	lock_pid run
	if [ -z "$p" ]; then
		echo 'no runner to signal: the lock names no live run'
		exit 1
	fi
	touch "$G_RUNS/$1/cancel" && kill -USR1 "$p"
}

# admin_safe: a symlink planted in place of gantry's files is never written through
admin_safe() {
	umask 077
	for f in "$G" "$G_HISTORY" "$G_FREEZE" "$G_LOCK"; do
		if [ -L "$f" ]; then
			echo "$f is a symlink: not followed"
			exit "$EX_UNSAFE"
		fi
	done
	# a FIFO or device in their place would block every read and append
	for f in "$G_HISTORY" "$G_FREEZE"; do
		if [ -e "$f" ] && [ ! -f "$f" ]; then
			echo "$f is not a regular file: not used"
			exit "$EX_UNSAFE"
		fi
	done
}

# adopt RECORD: under no lock, and only where no run was recorded meanwhile
cmd_adopt() {
	admin_safe
	mkdir -p "$G" || exit 1
	if [ -d "$G_LOCK" ]; then
		echo 'locked: a run started meanwhile'
		exit "$EX_LOCKED"
	fi
	if [ -f "$G_HISTORY" ] && grep -qE '"event":"(start|adopt)"' "$G_HISTORY" 2>/dev/null; then
		echo 'a run or an adoption was recorded meanwhile'
		exit "$EX_NOT_NEEDED"
	fi
	history_append "$1"
}

cmd_freeze() {
	admin_safe
	mkdir -p "$G" && t=$(mktemp "$G_FREEZE.XXXXXX") &&
		printf 'by=%s\nsince=%s\nreason=%s\n' "$1" "$(date +%s)" "$2" >"$t" &&
		mv -f "$t" "$G_FREEZE" && history_append "$3"
}

cmd_unfreeze() {
	admin_safe
	if [ ! -e "$G_FREEZE" ]; then
		echo 'not frozen'
		exit "$EX_NOT_NEEDED"
	fi
	rm -f "$G_FREEZE" && history_append "$1"
}

# unlock NOTE: breaks a lock whose run is dead, saying whose it was
cmd_unlock() {
	admin_safe
	if [ ! -d "$G_LOCK" ]; then
		echo 'not locked'
		exit "$EX_NOT_NEEDED"
	fi
	lock_pid '(start|run)'
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		echo "its run is alive (pid $p): let it end, or cancel it"
		exit "$EX_ALIVE"
	fi
	o=$([ -f "$G_LOCK/owner" ] && head -c 4096 "$G_LOCK/owner" 2>/dev/null)
	printf '%s\n' "$o" | tr '\n' ' '
	echo
	mv -f -T "$G_LOCK" "$G/lock.broken.$$" || exit 1
	# what was checked is what was broken: a lock that changed hands meanwhile goes back
	if [ "$(head -c 4096 "$G/lock.broken.$$/owner" 2>/dev/null)" != "$o" ]; then
		mv -n -T "$G/lock.broken.$$" "$G_LOCK" 2>/dev/null
		echo "the lock changed hands while it was being broken: nothing was broken"
		exit "$EX_ALIVE"
	fi
	rm -rf "$G/lock.broken.$$" && history_append "$1"
}

# ---- a rollout's driver, beside its lease (src/drive.h) ----

# drive_beside RUN: the lock is RUN's lease, and the driver's files are plain files; else
# says why and exits
drive_beside() {
	run_id_ok "$1" || usage
	GANTRY_RUN=$1
	GANTRY_LEASE=
	admin_safe
	if ! { [ -d "$G_LOCK" ] && lock_ours && [ -f "$G_LOCK/plan" ]; }; then
		echo "the lock is not run $1's lease: no rollout of it holds this host"
		exit "$EX_NOT_NEEDED"
	fi
	for f in "$G_DRIVER" "$G_REQUEST"; do
		if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then
			echo "$f is not a regular file: not used"
			exit "$EX_UNSAFE"
		fi
	done
}

# drive_hold: one drive or ask at a time (a mkdir is atomic), let go however the command
# ends (its session closed: a hang-up); a hold left by a command killed outright is taken
# once it is 10 s old. drive_unhold lets it go.
drive_hold() {
	i=0
	while ! mkdir "$G_LOCK/.drive" 2>/dev/null; do
		[ -d "$G_LOCK" ] || return 1
		i=$((i + 1))
		if [ "$i" -ge 30 ]; then
			t=$(stat -c %Y "$G_LOCK/.drive" 2>/dev/null) || continue
			[ $(($(date +%s) - t)) -ge 10 ] || return 1
			rmdir "$G_LOCK/.drive" 2>/dev/null
			i=0
		fi
		sleep 0.1 2>/dev/null || sleep 1
	done
	trap 'drive_unhold; exit 1' HUP INT TERM PIPE
}

drive_unhold() {
	rmdir "$G_LOCK/.drive" 2>/dev/null
}

# drive_write FILE RECORD KEY VALUE: RECORD (at most N_DRIVE_MAX bytes, any KEY= line of
# its own dropped) and KEY=VALUE, the host's word, written aside and renamed onto FILE;
# exits UNSAFE (the hold let go) when it cannot be
drive_write() {
	if ! t=$(mktemp "$1.XXXXXX") ||
		! { printf '%s\n' "$2" | grep -v "^$3=" | head -c "$N_DRIVE_MAX"
			echo "$3=$4"; } >"$t" || ! mv -f "$t" "$1"; then
		rm -f "$t"
		drive_unhold
		echo "cannot write $(pwd)/$1"
		exit "$EX_UNSAFE"
	fi
}

# kv FILE KEY: the value of the file's first KEY= line
kv() {
	grep -m 1 "^$2=" "$1" 2>/dev/null | cut -c "$((${#2} + 2))"-
}

# drive RUN TOKEN RECORD ACK: TOKEN's record as the rollout's driver (the host's clock as
# its beat), unless another driver's beat is fresh (exit LOCKED, with its record); a
# record with state=left lets go. The request ACK answered is cleared; the one waiting is
# printed.
cmd_drive() {
	drive_beside "$1"
	drive_hold || { echo "the driver's record is busy"; exit "$EX_UNSAFE"; }
	now=$(date +%s)
	if [ -f "$G_DRIVER" ]; then
		b=$(kv "$G_DRIVER" beat)
		s=$(kv "$G_DRIVER" stale)
		case $b in '' | *[!0-9]*) b=0 ;; esac
		case $s in '' | *[!0-9]*) s=0 ;; esac
		if [ "$(kv "$G_DRIVER" token)" != "$2" ] && [ "$(kv "$G_DRIVER" state)" != "$D_LEFT" ] &&
			[ $((now - b)) -lt "$s" ]; then
			part "$PD_DRIVER"
			head -c "$N_DRIVE_MAX" "$G_DRIVER" | x
			part "$PD_END"
			drive_unhold
			exit "$EX_LOCKED"
		fi
	fi
	if printf '%s\n' "$3" | grep -qx "state=$D_LEFT"; then
		[ -f "$G_DRIVER" ] && [ "$(kv "$G_DRIVER" token)" = "$2" ] && rm -f "$G_DRIVER"
	else
		drive_write "$G_DRIVER" "$3" beat "$now"
	fi
	[ -n "$4" ] && [ -f "$G_REQUEST" ] && [ "$(kv "$G_REQUEST" id)" = "$4" ] && rm -f "$G_REQUEST"
	part "$PD_REQUEST"
	[ -f "$G_REQUEST" ] && head -c "$N_DRIVE_MAX" "$G_REQUEST" | x
	part "$PD_END"
	drive_unhold
}

# ask RUN REQUEST: a request for RUN's driver (the host's clock as its time), in place of
# one not yet answered
cmd_ask() {
	drive_beside "$1"
	drive_hold || { echo "the driver's record is busy"; exit "$EX_UNSAFE"; }
	drive_write "$G_REQUEST" "$2" at "$(date +%s)"
	drive_unhold
}

cmd_http_get() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS --max-time 3 --max-filesize "$2" "$1"
	else
		wget -q -T 3 -O - "$1"
	fi
}

# tied COMMAND: the command in a session (and process group) of its own; when gantry's
# channel closes, stdin ends and the whole group is ended, whether or not it writes.
# The command's status is the runner's (EX_NO_RUNNER is reserved: it reads as 1).
cmd_tied() {
	# the channel, kept: an asynchronous list's stdin is /dev/null
	exec 3<&0
	setsid sh -c "$1" </dev/null 3<&- &
	c=$!
	# the watcher, in a group of its own too, so it goes whole when the command ends first
	# shellcheck disable=SC2016
	setsid sh -c 'cat >/dev/null; kill -TERM -"$0" "$0"; sleep 2; kill -KILL -"$0" "$0"' "$c" \
		<&3 >/dev/null 2>&1 &
	w=$!
	# Only now the trap: a child forked while a trap is set can lose a signal that
	# arrives before it resets the trap (dash), and the watcher would then outlive a
	# command that ended first. (A group that is not made yet: its first process alone.)
	trap 'kill -TERM -"$c" "$c" 2>/dev/null; exit 143' TERM HUP INT
	# the shell's own notices (a job "Terminated") are not the command's output
	exec 3<&- 2>/dev/null
	wait "$c"
	rc=$?
	kill -TERM -"$w" "$w" 2>/dev/null
	[ "$rc" = "$EX_NO_RUNNER" ] && rc=1
	exit "$rc"
}

# compose-check COMPOSE: the compose file as COMPOSE reads it, once deploy.env is there
# (before the first deploy the file's variables have no values: not checked)
cmd_compose_check() {
	if [ ! -f deploy.env ]; then
		echo "no deploy.env yet: the first deploy writes it, then the compose file can be checked"
		exit "$EX_NOT_NEEDED"
	fi
	cmd_tied "$1 config -q"
}

# need N ARGS...: exactly N arguments, or the usage
need() {
	n=$1
	shift
	[ $# -eq "$n" ] || usage
}

sub=${1:-}
[ $# -gt 0 ] && shift
# the program as sent along by gantry: only install writes it; the rest never pass it on
[ "$sub" = install ] || unset GANTRY_PROGRAM
case $sub in
version) echo "gantry-runner $RUNNER_PROTOCOL" ;;
install) need 1 "$@"; cmd_install "$1" ;;
state) need 0 "$@"; cmd_state history ;;
watch) need 0 "$@"; cmd_state ;;
follow) cmd_follow "$@" ;;
cancel) need 1 "$@"; cmd_cancel "$1" ;;
adopt) need 1 "$@"; cmd_adopt "$1" ;;
freeze) need 3 "$@"; cmd_freeze "$@" ;;
unfreeze) need 1 "$@"; cmd_unfreeze "$1" ;;
unlock) need 1 "$@"; cmd_unlock "$1" ;;
lease) need 5 "$@"; cmd_lease "$@" ;;
release) need 1 "$@"; cmd_release "$1" ;;
drive) need 4 "$@"; cmd_drive "$@" ;;
ask) need 2 "$@"; cmd_ask "$@" ;;
http-get) need 2 "$@"; cmd_http_get "$@" ;;
tied) need 1 "$@"; cmd_tied "$1" ;;
compose-check) need 1 "$@"; cmd_compose_check "$1" ;;
start) cmd_start ;;
run) cmd_run ;;
write-env) cmd_write_env "$@" ;;
wait-ready) need 3 "$@"; cmd_wait_ready "$@" ;;
http-check) [ $# -eq 2 ] || need 3 "$@"; cmd_http_check "$@" ;;
*) usage ;;
esac
