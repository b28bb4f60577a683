#!/bin/bash
# Shell completion: the bash and zsh scripts that `make install` puts in place, run by
# real bash and zsh against gantry --complete, with the environments and hosts of a real
# configuration and the tags of a real registry (Debian's docker-registry on loopback).
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/containers.sh"

work=$(mktemp -d)
trap 'containers_teardown; rm -rf "$work"' EXIT
containers_registry "$work/c" || { echo "Bail out! the registry did not start"; exit 1; }
plan 16

containers_push_bare shop/app sha-1111111 2026-11-01T10:00:00Z >/dev/null
containers_push_bare shop/app sha-2222222 2026-11-03T10:00:00Z >/dev/null
containers_push_bare shop/app latest 2026-11-03T10:00:00Z >/dev/null
containers_push_bare shop/app v1.4.0 2026-10-01T10:00:00Z >/dev/null
cfg=$work/gantry.yml
cat >"$cfg" <<YAML
project: shop
registry: {url: http://$REGISTRY, app: shop/app, migrator: shop/migrator, tags: '^sha-'}
defaults: {deploy_dir: /srv/shop}
environments:
  - {name: staging, url: "http://127.0.0.1:1", hosts: [deploy@stg-1]}
  - {name: production, url: "http://127.0.0.1:1", hosts: [deploy@prod-1, "deploy@prod-2:2222"]}
YAML

# bash: what the completion function offers for a command line whose last word is being
# typed, as bash calls it (COMP_WORDS, COMP_CWORD)
. "$srcdir/cli/completion/gantry"
bash_complete() {
	COMP_WORDS=("$GANTRY" -c "$cfg" "$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_gantry
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

is "$(bash_complete de)" "deploy" "bash completes a command"
is "$(bash_complete deploy '')" "production staging" "an environment, from the configuration"
is "$(bash_complete deploy production '')" "sha-1111111 sha-2222222" \
	"a tag: the registry's, only those registry.tags allows"
is "$(bash_complete rollback production --to sha-2)" "sha-2222222" "the tag of rollback --to"
is "$(bash_complete promote staging --d)" "--dry-run" "a command's option"
is "$(bash_complete logs production '')" "app migrator" "which log"
is "$(bash_complete logs production --host '')" "deploy@prod-1 deploy@prod-2:2222" \
	"the hosts of the environment named"
is "$(bash_complete --re)" "--read-only" "an option before the command"
touch "$work/other.yml"
is "$(bash_complete --config "$work/oth")" "$work/other.yml" "a file after --config"
is "$(bash_complete unfreeze production '')" "" "nothing after the last word a command takes"
COMP_WORDS=("$GANTRY" deploy '')
COMP_CWORD=2
COMPREPLY=()
(cd "$work" && _gantry && printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ') >"$work/out"
is "$(sed 's/ $//' "$work/out")" "production staging" \
	"without --config, the configuration is looked up as gantry does (./gantry.yml)"

# zsh: the same through its function, with zsh's compadd and _files stood in for by
# printers (completion itself needs a terminal)
zsh_complete() {
	GANTRY="$GANTRY" SCRIPT="$srcdir/cli/completion/_gantry" CFG="$cfg" zsh -f -c '
		compadd() { [ "$1" = "--" ] && shift; print -l -- "$@"; }
		_files() { print -- ":files"; }
		source "$SCRIPT" >/dev/null 2>&1 <&-
		words=("$GANTRY" -c "$CFG" "$@")
		CURRENT=${#words}
		_gantry' zsh "$@" | sort | tr '\n' ' ' | sed 's/ $//'
}
is "$(zsh_complete dep)" "deploy" "zsh completes a command"
is "$(zsh_complete deploy production '')" "sha-1111111 sha-2222222" "and a tag from the registry"
is "$(zsh_complete history '')" "production staging" "and an environment"
is "$(zsh_complete -c '')" ":files" "and hands a file name to _files"
zsh -n "$srcdir/cli/completion/_gantry" && bash -n "$srcdir/cli/completion/gantry"
is "$?" 0 "both scripts parse"
done_testing
