#!/bin/bash
# The shape of the code, as README's "How gantry is built" says it: views never open one
# another (they ask the stack), module-private headers stay private, the core has no
# curses, and no file or function grows past what one reading takes.
. "$srcdir/tests/lib/tap.sh"
cd "$srcdir" || exit 1
plan 6

# each opener is called only by the stack (ui.c), never by a view (its definition aside)
bad=$(grep -nE '\b(logview_open|deployview_open|deployview_attach|historyview_push|help_open)\(' \
	ui/dashboard.c ui/deployview.c ui/historyview.c ui/logview.c ui/help.c ui/wallboard.c |
	grep -vE '^[^:]+:[0-9]+:void ' | tr '\n' ' ')
is "${bad# }" "" "no view opens another: it asks the stack (ui_request)"

# private headers: each is included only by the files of its module
priv() {
	local header=$1; shift
	grep -lE "#include \"$header\"" src/*.c src/*.h ui/*.c ui/*.h cli/*.c cli/*.h tests/unit/*.c tests/fuzz/*.c 2>/dev/null |
		grep -vxF -e "src/$header" $(printf -- '-e %s ' "$@")
}
is "$(priv deploystate.h src/deploy.c src/gather.c src/rollout.c src/attach.c src/adopt.c src/envrun.c)" "" \
	"deploystate.h is the release engine's alone"
is "$(priv confread.h src/conf.c src/confvalue.c src/confdeploy.c src/confregistry.c)" "" \
	"confread.h is gantry.yml's readers' alone"
is "$(priv remoteint.h src/remote.c src/remotesession.c)" "" "remoteint.h is the SSH client's alone"

is "$(grep -lE '#include <(n)?curses' src/*.c src/*.h cli/*.c 2>/dev/null)" "" "the core and the command line draw nothing"

# no C file over 800 lines, no function over 100
long=
for f in src/*.c ui/*.c cli/*.c; do
	n=$(wc -l <"$f")
	[ "$n" -gt 800 ] && long="$long $f ($n lines)"
	long="$long$(awk -v f="$f" '/^[a-z].*\(/ { name = $0 } /^\{/ { s = NR }
		/^\}/ { if (s && NR - s > 100) printf " %s: %s (%d lines)", f, name, NR - s; s = 0 }' "$f")"
done
is "${long# }" "" "no file over 800 lines, no function over 100"
done_testing
