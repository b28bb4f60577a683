#!/bin/bash
# gantry tags against a real registry (Debian's docker-registry, distribution 2.8) on
# loopback: anonymous, behind basic auth, and behind a token service as GHCR runs one.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/containers.sh"

work=$(mktemp -d)
trap 'containers_teardown; rm -rf "$work"' EXIT
containers_registry "$work/c" || { echo "Bail out! the registry did not start"; exit 1; }
plan 38

d1=$(containers_push_bare shop/app sha-1111111 2026-11-01T10:00:00Z)
d2=$(containers_push_bare shop/app sha-2222222 2026-11-03T10:00:00Z)
d3=$(containers_push_bare shop/app sha-3333333 2026-11-02T10:00:00Z)
containers_push_bare shop/app latest 2026-11-03T10:00:00Z >/dev/null
containers_push_bare shop/app v1.4.0 2026-10-01T10:00:00Z >/dev/null
m1=$(containers_push_bare shop/migrator sha-1111111 2026-11-01T09:00:00Z)
m2=$(containers_push_bare shop/migrator sha-2222222 2026-11-03T09:00:00Z)

config() { # EXTRA registry keys
	cat >"$work/gantry.yml" <<YAML
project: shop
registry:
  url: http://$REGISTRY
  app: shop/app
  migrator: shop/migrator
$1
environments:
  - {name: staging, url: "http://127.0.0.1:1"}
YAML
}
run() { out=$("$GANTRY" --config "$work/gantry.yml" tags "$@" 2>"$work/err"); rc=$?; err=$(cat "$work/err"); }

config ""
run
is "$rc" 0 "anonymous registry: exit 0"
is "$(printf '%s\n' "$out" | awk 'NR > 1 { print $1 }' | tr '\n' ' ')" "sha-2222222 sha-3333333 sha-1111111 " \
	"sha tags only, newest first by the image's creation time"
like "$(printf '%s\n' "$out" | grep sha-3333333)" "2026-11-02 10:00Z +${d3:0:19} +missing" \
	"a tag without a migrator image says so"
like "$(printf '%s\n' "$out" | grep sha-2222222)" "${d2:0:19} +${m2:0:19}" "both digests shown"
unlike "$out" "latest|v1.4.0" "moving tags and other tags are not deployable"

run --json
is "$(printf '%s' "$out" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[0]["tag"], d[0]["app_digest"], d[0]["migrator_digest"], d[0]["created"])')" \
	"sha-2222222 $d2 $m2 2026-11-03T10:00:00Z" "--json: full digests as the registry serves them"
is "$(printf '%s' "$out" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[1]["migrator_digest"], len(d))')" \
	"None 3" "--json: a missing migrator is null"
run --limit 1
is "$(printf '%s\n' "$out" | wc -l)" 2 "--limit 1: one tag under the header"

config "  tags: '^v[0-9]+\\.[0-9]+\\.[0-9]+\$'"
run
like "$out" "v1.4.0 +2026-10-01" "a configured tag pattern picks other tags"
unlike "$out" "sha-" "and only those"

# ---- basic auth -----------------------------------------------------------------
containers_registry_restart --htpasswd bot s3cret-basic || { echo "Bail out! registry with htpasswd"; exit 1; }
config ""
run
is "$rc" 5 "credentials needed but none set: exit 5"
like "$err" "wants credentials for shop/app \\(HTTP 401\\); set registry.username and registry.password" \
	"the message says which keys to set"
config "  username: bot
  password: {env: GANTRY_TEST_REGPW}"
GANTRY_TEST_REGPW=wrong run
is "$rc" 5 "wrong password: exit 5"
like "$err" "refused the credentials of bot for shop/app \\(HTTP 401\\); check the password from env GANTRY_TEST_REGPW" \
	"a refused password names where it came from"
unlike "$out$err" "wrong" "and never shows it"
run
is "$rc" 5 "a password that cannot be read fails the command that needs it: exit 5"
like "$err" "wants the credentials of bot, and its password could not be read: .*gantry\.yml:[0-9]+:[0-9]+: registry\.password: environment variable GANTRY_TEST_REGPW is not set" \
	"saying where it is configured and why it could not be read"
out=$("$GANTRY" --config "$work/gantry.yml" status 2>&1)
like "$out" "staging" "while a command that needs no registry (status) starts without it"
unlike "$out" "registry\.password" "and does not complain"
GANTRY_TEST_REGPW=s3cret-basic run
is "$rc" 0 "basic auth: the right password lists the tags"
like "$out" "sha-2222222" "the same tags"
unlike "$out$err" "s3cret" "the password appears nowhere"

# ---- token service (Bearer) ------------------------------------------------------
containers_registry_restart --token bot s3cret-token 2>"$work/restart.err" ||
	{ echo "Bail out! registry with token auth: $(tr '\n' '|' <"$work/restart.err")"; exit 1; }
: >"$CONTAINERS_DIR/token/requests"
# the sandbox's token service listens on another port of the same host: the credentials
# go there only when the configuration names it (as for Docker Hub's auth.docker.io)
GANTRY_TEST_REGPW=s3cret-token run --json
is "$rc" 5 "a token service on another port of the registry's host: exit 5"
like "$err" "sent its token service as \"http://127\.0\.0\.1:[0-9]+/token\", on another host or port; gantry sends no credentials there unless registry.token_realm names it" \
	"saying why"
is "$(cat "$CONTAINERS_DIR/token/requests")" "" "and the password never went there"
config "  username: bot
  password: {env: GANTRY_TEST_REGPW}
  token_realm: http://127.0.0.1:$(cat "$CONTAINERS_DIR/token/port")/token"
GANTRY_TEST_REGPW=s3cret-token run --json
is "$rc" 0 "Bearer: a token is fetched from the challenge's realm"
like "$out" "$d1" "and the digests read with it"
like "$(cat "$CONTAINERS_DIR/token/requests")" "service=gantry-sandbox-registry&scope=repository%3Ashop%2Fapp%3Apull" \
	"the token request names the service and the repository's pull scope"
asked=$(wc -l <"$CONTAINERS_DIR/token/requests")
check "tokens are reused per repository (asked $asked times for 3 tags x 2 images)" [ "$asked" -le 12 ]
unlike "$out$err" "s3cret|eyJ" "neither the password nor the token is shown"
GANTRY_TEST_REGPW=nope run
is "$rc" 5 "Bearer with a wrong password: exit 5"
like "$err" "refused the credentials of bot" "the token service's refusal is reported as such"

# ---- a token service on another host gets no credentials, unless the configuration names it
CONTAINERS_TOKEN_REALM_HOST=localhost containers_registry_restart --token bot s3cret-token 2>"$work/restart.err" ||
	{ echo "Bail out! registry with a foreign realm: $(tr '\n' '|' <"$work/restart.err")"; exit 1; }
: >"$CONTAINERS_DIR/token/requests"
GANTRY_TEST_REGPW=s3cret-token run
is "$rc" 5 "a 401 naming a token service on another host: exit 5"
like "$err" "sent its token service as \"http://localhost:[0-9]+/token\", on another host or port; gantry sends no credentials there unless registry.token_realm names it" \
	"saying why"
is "$(cat "$CONTAINERS_DIR/token/requests")" "" "and the credentials never went there"
config "  username: bot
  password: {env: GANTRY_TEST_REGPW}
  token_realm: http://localhost:$(cat "$CONTAINERS_DIR/token/port")/token"
GANTRY_TEST_REGPW=s3cret-token run
is "$rc" 0 "with registry.token_realm naming it, the token is fetched there"

# ---- down -----------------------------------------------------------------------
containers_stop_pid "$(cat "$CONTAINERS_DIR/registry/pid")"
GANTRY_TEST_REGPW=s3cret-token run
is "$rc" 5 "registry down: exit 5"
like "$err" "cannot reach the registry at http://$REGISTRY: connection refused" "the message says it cannot be reached"
done_testing
