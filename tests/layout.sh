#!/bin/bash
# The shape of the code, as README's "How gantry is built" says it: views never open one
# another (they ask the stack), module-private headers stay private, a target's folder is
# its own, the core has no curses, and no file or function grows past what one reading
# takes.
. "$srcdir/tests/lib/tap.sh"
cd "$srcdir" || exit 1
plan 9

# each opener is called only by the stack (ui.c), never by a view (its definition aside)
bad=$(grep -nE '\b(logview_open|deployview_open|deployview_attach|deployview_emergency|historyview_push|help_open|reasonview_open)\(' \
	ui/dashboard.c ui/deployview.c ui/historyview.c ui/logview.c ui/help.c ui/wallboard.c ui/reasonview.c |
	grep -vE '^[^:]+:[0-9]+:void ' | tr '\n' ' ')
is "${bad# }" "" "no view opens another: it asks the stack (ui_request)"

# private headers: each is included only by the files of its module
priv() {
	local header=$1; shift
	grep -lE "#include \"$header\"" src/*.c src/*.h ui/*.c ui/*.h cli/*.c cli/*.h tests/unit/*.c tests/fuzz/*.c 2>/dev/null |
		grep -vxF -e "src/$header" $(printf -- '-e %s ' "$@")
}
is "$(priv deploystate.h src/deploy.c src/gather.c src/rollout.c src/attach.c src/adopt.c src/envrun.c src/fleet.c src/fleetdrive.c)" "" \
	"deploystate.h is the release engine's alone"
is "$(priv confread.h src/conf.c src/confvalue.c src/confdeploy.c src/confregistry.c src/confhosts.c src/confrollout.c)" "" \
	"confread.h is gantry.yml's readers' alone"
is "$(priv runfacts.h ui/deployview.c ui/runfacts.c)" "" "runfacts.h is the run pane's alone"
is "$(grep -lE '#include "remoteint.h"' src/*/*.c src/*/*.h | grep -vxF -e src/compose/remote.c \
	-e src/compose/remotesession.c)" "" "remoteint.h is the SSH client's alone"

# compose over SSH is a folder of its own: outside it, only the table of targets names it
compose_headers=$(cd src/compose && ls *.h | sed 's/[.]/[.]/g' | paste -sd'|')
bad=$(grep -nE "#include \"(compose/)?($compose_headers)\"" src/*.c src/*.h ui/*.c ui/*.h cli/*.c cli/*.h |
	grep -vE '^src/targets[.]c:[0-9]+:#include "compose/compose[.]h"' |
	tr '\n' ' ')
is "${bad% }" "" "no file outside src/compose/ includes its headers (src/targets.c's table aside)"
bad=$(grep -lE 'remote_host|runner_run|RUNNER_|hostreply|run_spec' src/*.c src/*.h ui/*.c ui/*.h cli/*.c cli/*.h | tr '\n' ' ')
is "${bad% }" "" "the engine, the screens and the commands name no SSH session, runner or shell plan"

is "$(grep -lE '#include <(n)?curses' src/*.c src/*.h src/*/*.c src/*/*.h cli/*.c 2>/dev/null)" "" "the core and the command line draw nothing"

# no C file over 800 lines, no function over 100
long=
for f in src/*.c src/*/*.c ui/*.c cli/*.c; do
	n=$(wc -l <"$f")
	[ "$n" -gt 800 ] && long="$long $f ($n lines)"
	long="$long$(awk -v f="$f" '/^[a-z].*\(/ { name = $0 } /^\{/ { s = NR }
		/^\}/ { if (s && NR - s > 100) printf " %s: %s (%d lines)", f, name, NR - s; s = 0 }' "$f")"
done
is "${long# }" "" "no file over 800 lines, no function over 100"
done_testing
