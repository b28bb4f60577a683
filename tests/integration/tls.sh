#!/bin/bash
# TLS as in production: an app behind a TLS front, a registry and its token service over
# HTTPS, all with certificates from a test CA; ca_file trusts it, and a certificate that
# does not verify is an error that names the host and what failed, never accepted.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"
. "$srcdir/tests/lib/tls.sh"
. "$srcdir/tests/lib/containers.sh"

work=$(mktemp -d)
trap 'sandbox_stop; for p in $TLS_FRONT_PIDS; do kill $p 2>/dev/null; done; containers_teardown; rm -rf "$work"' EXIT
mkdir -p "$work/pki"
{ tls_ca "$work/pki" ca && tls_server "$work/pki" ca app && tls_server "$work/pki" ca registry &&
	tls_server "$work/pki" ca token && tls_ca "$work/pki" other; } ||
	{ echo "Bail out! openssl could not make the test certificates"; exit 1; }
sandbox_start "$work/apps" || { echo "Bail out! the app servers did not start"; exit 1; }
tls_front "$work/pki/app.pem" "$work/pki/app.key" "$(sandbox_port production)" ||
	{ echo "Bail out! the TLS front did not start"; exit 1; }
front=$TLS_FRONT_PORT
plan 17

status_config() { # DEFAULTS_EXTRA PRODUCTION_EXTRA
	cat >"$work/gantry.yml" <<YAML
project: shop
defaults:
  timeout: 3s
$1
environments:
  - name: staging
    url: http://127.0.0.1:$(sandbox_port staging)
  - name: production
    url: https://127.0.0.1:$front
$2
YAML
}
run() { out=$("$GANTRY" --config "$work/gantry.yml" "$@" 2>&1); rc=$?; }

# ---- an app over HTTPS ------------------------------------------------------------
status_config "  ca_file: pki/ca.pem" ""
run status
is "$rc" 0 "ca_file in defaults (relative to gantry.yml): the HTTPS app is ready"
like "$out" "production +sha-8b03f7a +up +ready" "its tag read over TLS"

status_config "" ""
run status
isnt "$rc" 0 "without ca_file the test CA is not trusted: exit non-zero"
like "$out" "TLS: 127\\.0\\.0\\.1:$front's certificate did not verify against the system's CAs" \
	"the error names the host and what failed"
like "$out" "set ca_file to the CA that signed it" "and says what to do"
like "$out" "production +- +TLS error +TLS error" "the dashboard's words: TLS error, not a bad reply"

status_config "" "    ca_file: $work/pki/other.pem"
run status
isnt "$rc" 0 "ca_file naming another CA: refused"
like "$out" "did not verify against ca_file $work/pki/other.pem .*check that ca_file holds the CA that signed it" \
	"the error names the file it checked against"

status_config "" "    ca_file: $work/pki/ca.pem"
run check production
like "$out" "ok +ready +https://127\\.0\\.0\\.1:$front/api/ready answered 200" \
	"gantry check reaches the HTTPS app with the environment's own ca_file"

status_config "  ca_file: pki/nope.pem" ""
run status
is "$rc" 3 "a ca_file that is not there: a configuration error"
like "$out" "gantry\\.yml:[0-9]+:[0-9]+: defaults\\.ca_file: cannot read $work/pki/nope\\.pem" \
	"with its place in the file"

# ---- a registry and its token service over HTTPS ------------------------------------
CONTAINERS_TLS=$work/pki
containers_registry "$work/c" || { echo "Bail out! the HTTPS registry did not start"; exit 1; }
d1=$(containers_push_bare shop/app sha-1111111 2026-11-01T10:00:00Z)
containers_push_bare shop/migrator sha-1111111 2026-11-01T09:00:00Z >/dev/null
containers_registry_restart --token bot s3cret-token || { echo "Bail out! the token registry"; exit 1; }
registry_config() { # EXTRA
	cat >"$work/gantry.yml" <<YAML
project: shop
registry:
  url: https://$REGISTRY
  app: shop/app
  migrator: shop/migrator
  username: bot
  password: {env: GANTRY_TEST_PASS}
  token_realm: https://127.0.0.1:$(cat "$work/c/token/port")/token
$1
environments:
  - {name: staging, url: "http://127.0.0.1:$(sandbox_port staging)"}
YAML
}
export GANTRY_TEST_PASS=s3cret-token

registry_config "  ca_file: pki/ca.pem"
run tags
is "$rc" 0 "tags from the HTTPS registry, through its HTTPS token service"
like "$out" "sha-1111111 +2026-11-01 10:00Z +${d1:0:19}" "the tag and its digest"
check "the token came from the token service" test -s "$work/c/token/requests"

registry_config ""
run tags
is "$rc" 5 "without ca_file: the registry's certificate is refused (exit 5)"
like "$out" "TLS: 127\\.0\\.0\\.1:${REGISTRY##*:}'s certificate did not verify" "naming the registry's host"

registry_config "  ca_file: pki/other.pem"
run tags
like "$out" "did not verify against ca_file $work/pki/other\\.pem" "another CA: refused, naming the file"
