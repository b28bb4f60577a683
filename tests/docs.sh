#!/bin/bash
# The man pages are true to the code: keys, options, config keys and exit statuses.
. "$srcdir/tests/lib/tap.sh"
man1="$srcdir/man/gantry.1.in"
man5="$srcdir/man/gantry.yml.5.in"
plan 7

want=$("$GANTRY" --list-keys=man)
got=$(sed -n '/^\.\\" KEYS-BEGIN/,/^\.\\" KEYS-END/p' "$man1" | sed '1d;$d')
is "$got" "$want" "gantry(1) KEYS is what --list-keys=man prints (run make update-man)"

want=$("$GANTRY" --list-commands=man)
got=$(sed -n '/^\.\\" COMMANDS-BEGIN/,/^\.\\" COMMANDS-END/p' "$man1" | sed '1d;$d')
is "$got" "$want" "gantry(1) SYNOPSIS is what --list-commands=man prints (run make update-man)"

missing=
for opt in $("$GANTRY" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
	grep -qF -- "$(printf '%s' "$opt" | sed 's/-/\\-/g')" "$man1" || missing="$missing $opt"
done
is "$missing" "" "every option in --help is in gantry(1)"

missing=
for key in $("$GANTRY" --list-config-keys | awk '{ print $1 }'); do
	leaf=${key##*.}
	grep -qE "^\.B $leaf( |\$)" "$man5" || missing="$missing $key"
done
is "$missing" "" "every configuration key is in gantry.yml(5)"

missing=
defaults_text=$(sed -n '/^\.B defaults$/,/^\.TP$/p' "$man5" | tr '\n' ' ')
for key in $("$GANTRY" --list-config-keys | awk '$1 ~ /^defaults\.[a-z_]+$/ { sub(/^defaults\./, "", $1); print $1 }'); do
	printf '%s' "$defaults_text" | grep -qF "\\fB$key\\fR" || missing="$missing $key"
done
is "$missing" "" "gantry.yml(5) lists every key defaults accepts"

missing=
for code in $(sed -n 's/.*X(EXIT_[A-Z_]*, *\([0-9]*\),.*/\1/p' "$srcdir/src/exitcode.h"); do
	grep -q "^\.B $code\$" "$man1" || missing="$missing $code"
done
is "$missing" "" "every exit status is in gantry(1)"

"$GANTRY" --config "$srcdir/examples/gantry.yml" --list-config-keys >/dev/null
out=$(GANTRY_EXAMPLE_TOKEN=x "$GANTRY" --config "$srcdir/examples/gantry.yml" status 2>&1 >/dev/null)
unlike "$out" 'gantry.yml:[0-9]+:[0-9]+' "examples/gantry.yml is a valid configuration"
done_testing
