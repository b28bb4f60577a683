# gantry's host-side runner: the second half of every run.sh gantry writes to a host.
# The first half (written per run by src/runscript.c) sets GANTRY_* variables and the
# steps; this half takes the lock, records the run in the history, and runs the steps
# detached from the SSH session, so a run finishes even if gantry or the link dies.
#
#   sh .gantry/runs/ID/run.sh start    lock, record the start, detach; prints one of
#                                      STARTED ID | LOCKED <owner lines> | FROZEN <lines>
#   sh .gantry/runs/ID/run.sh run      (detached) the steps, then the end record
#
# Files under the deploy directory:
#   .gantry/lock/         held while a run runs (mkdir is the atomic test-and-set);
#                         owner: key=value lines; pid: the runner's pid
#   .gantry/freeze        present while promotions are frozen (key=value lines)
#   .gantry/history.jsonl one JSON object per line: a start record and an end record per run
#   .gantry/current       the id of the last run started
#   .gantry/runs/ID/      run.sh, events (written by the runner only), output (steps' output)
# Events, one per line: "<epoch ms> <word> ...":
#   run start | step N start | step N end STATUS MS | cancel accepted|refused |
#   rollback start | run end RESULT
# POSIX sh plus date, mkdir, mv, sync, setsid and timeout (coreutils or busybox).

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

lock_take() {
	mkdir "$G/lock" 2>/dev/null || return 1
	{
		printf 'owner=%s\n' "$GANTRY_OPERATOR"
		printf 'since=%s\n' "$(date +%s)"
		printf 'run=%s\n' "$GANTRY_RUN"
		printf 'message=%s\n' "$GANTRY_LOCK_MESSAGE"
	} >"$G/lock/owner.tmp" && mv "$G/lock/owner.tmp" "$G/lock/owner"
}

lock_release() {
	rm -f "$G/lock/owner" "$G/lock/owner.tmp" "$G/lock/pid"
	rmdir "$G/lock" 2>/dev/null
}

cmd_start() {
	mkdir -p "$G/runs" || exit 70
	if [ "$GANTRY_ACTION" = promote ] && [ -e "$G/freeze" ]; then
		echo FROZEN
		cat "$G/freeze"
		exit 76
	fi
	if ! lock_take; then
		echo LOCKED
		cat "$G/lock/owner" 2>/dev/null
		exit 75
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
	echo $! >"$G/lock/pid"
	echo "STARTED $GANTRY_RUN"
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
		if [ "$switched" = 0 ] && [ -e "$R/cancel" ]; then
			event cancel accepted
			cancelled=1
			return 0
		fi
		[ "$sw" = 1 ] && switched=1
		event "$prefix $i start"
		printf '==> [%s %s/%s] %s\n' "$prefix" "$i" "$count" "$name"
		t0=$(now_ms)
		timeout -k 10 "$tmo" sh -c "$cmd" </dev/null &
		pid=$!
		while :; do
			wait "$pid"
			rc=$?
			if [ "$rc" -gt 128 ] && kill -0 "$pid" 2>/dev/null; then
				# a signal to the runner (cancel), not the step's end
				if [ "$switched" = 0 ] && [ -e "$R/cancel" ]; then
					event cancel accepted
					kill -TERM "$pid" 2>/dev/null
					cancelled=1
				elif [ -e "$R/cancel" ]; then
					event cancel refused
					rm -f "$R/cancel"
				fi
				continue
			fi
			break
		done
		ms=$(($(now_ms) - t0))
		event "$prefix $i end $rc $ms"
		[ -n "$steps_json" ] && steps_json="$steps_json,"
		steps_json="$steps_json{\"phase\":\"$prefix\",\"name\":$json,\"exit\":$rc,\"ms\":$ms}"
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

cmd_run() {
	trap 'printf "==> cancel asked\n"' USR1
	trap '' HUP
	switched=0
	cancelled=0
	steps_json=
	event run start
	run_steps step "$GANTRY_STEPS"
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
	history_append "{\"id\":\"$GANTRY_RUN\",\"event\":\"end\",\"ended\":$(date +%s),\"result\":\"$result\",\"failed_step\":$failed_step,\"steps\":[$steps_json]}"
	lock_release
	event run end "$result"
}

case "${1:-}" in
start) cmd_start ;;
run) cmd_run ;;
*) echo "usage: sh run.sh start|run" >&2; exit 2 ;;
esac
