#!/bin/bash
# gantry status against the sandbox's real HTTP servers: each state an endpoint can be in.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/sandbox.sh"

work=$(mktemp -d)
trap 'sandbox_stop; rm -rf "$work"' EXIT
SANDBOX_TIMEOUT=700ms sandbox_start "$work" || { echo "Bail out! sandbox did not start"; exit 1; }
cfg=$work/gantry.yml

plan 37

# status ENV_ROW: run gantry status, keep stdout and the exit status
run_status() { out=$("$GANTRY" --config "$cfg" status "$@" 2>"$work/err"); rc=$?; }
row() { printf '%s\n' "$out" | grep "^$1 "; }

run_status
is "$rc" 0 "all ready: exit 0"
like "$(row staging)" 'sha-4e1d2c9 +up +ready' "staging shows its tag, up and ready"
like "$(row production)" 'sha-8b03f7a +up +ready' "production shows its tag, up and ready"

sandbox_set production 'ready=0'
run_status
is "$rc" 1 "not ready: exit 1"
like "$(row production)" 'up +not ready .*HTTP 503: migrations pending' "not ready: liveness and readiness shown apart, with the reason"
like "$(row staging)" 'up +ready' "the other environment is unaffected"
sandbox_set production 'ready=1&live=0'
run_status
like "$(row production)" 'HTTP 500 .*worker crashed' "liveness failing shows HTTP 500 and the error field"
sandbox_set production 'live=1'

sandbox_set production 'mode=error'
run_status
is "$rc" 1 "500 page: exit 1"
like "$(row production)" 'HTTP 500: 500 Internal Server Error' "500 with an HTML page: its title is the reason"

sandbox_set production 'mode=hang'
start=$(date +%s%N)
run_status
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
is "$rc" 1 "hung endpoint: exit 1"
like "$(row production)" 'timeout +timeout .*no complete answer within 0.7s' "hung endpoint becomes timeout after its timeout"
check "hung endpoint costs the timeout, not more (${elapsed} ms)" test "$elapsed" -lt 3000

sandbox_set production 'mode=trickle'
run_status
like "$(row production)" 'timeout .*no complete answer within 0.7s' "an endpoint trickling bytes forever becomes a timeout"

sandbox_set production 'mode=garbage'
run_status
is "$rc" 0 "garbage bodies on 2xx health answers: still ready by status"
like "$(row production)" 'version: malformed JSON' "garbage version body: a clear error"
unlike "$out" $'\x1b' "no escape byte from the body reaches the output"
unlike "$out" 'owned' "the OSC title payload is not shown"

sandbox_set production 'mode=garbage&only=version'
run_status
like "$(row production)" '^production +- +up +ready .*version: malformed JSON' "garbage only in the version: health still shown, tag unknown"

sandbox_set production 'mode=html'
run_status
like "$(row production)" 'bad reply .*HTML page, not a health answer' "200 with an HTML page is not a health answer"

sandbox_set production 'mode=redirect'
run_status
like "$(row production)" 'HTTP 302 redirect to /login' "a redirect is reported, not followed"

sandbox_set production 'mode=huge'
run_status
like "$(row production)" 'body larger than 65536 bytes' "a 10 MB body is cut off at the cap"

sandbox_set production 'mode=close'
run_status
like "$(row production)" 'closed the connection without answering' "a server hanging up is reported"

sandbox_set production 'mode=ok'
kill "$(cat "$work/production.pid")"
wait "$(cat "$work/production.pid")" 2>/dev/null
run_status
is "$rc" 1 "connection refused: exit 1"
like "$(row production)" 'refused +refused .*connection refused' "connection refused is its own state"
like "$(row staging)" 'sha-4e1d2c9 +up +ready' "staging still reported beside a dead production"

# JSON output: the documented shape
run_status --json
is "$rc" 1 "json: same exit status"
json_check() {
	/usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["format"] == 1, "format"
assert d["project"] == "sandbox-shop", "project"
assert d["ok"] is False, "ok"
env = {e["name"]: e for e in d["environments"]}
assert list(env) == ["staging", "production"], "order"
s, p = env["staging"], env["production"]
assert s["health"] == "ready" and s["tag"] == "sha-4e1d2c9", "staging"
assert s["ready"]["state"] == "ok" and s["ready"]["http_status"] == 200, "staging ready"
assert isinstance(s["ready"]["latency_ms"], int), "latency"
assert p["health"] == "down" and p["tag"] is None, "production"
assert p["live"]["state"] == "refused" and p["live"]["http_status"] is None, "refused"
assert "connection refused" in p["live"]["detail"], "detail"
' <<<"$1"
}
check "status --json is valid JSON with the documented fields" json_check "$out"

# configuration errors: exit 3, file:line:col, nothing printed to stdout
printf 'project: x\nenvironments:\n  - name: staging\n    url: http://127.0.0.1:1\n    helth: /h\n' >"$work/bad.yml"
out=$("$GANTRY" --config "$work/bad.yml" status 2>&1); rc=$?
is "$rc" 3 "bad config: exit 3, distinct from not ready"
like "$out" "bad.yml:5:5: environments\[0\]\.helth: unknown key; did you mean \"health\"\?" "unknown key: position, key path and did-you-mean"
printf 'project: x\nenvironments:\n  - name: staging\n    url: ftp://x\n' >"$work/bad2.yml"
out=$("$GANTRY" --config "$work/bad2.yml" status 2>&1)
like "$out" 'bad2.yml:4:10: environments\[0\]\.url: expected a URL starting with http:// or https://' "bad URL: position and what was expected"
out=$("$GANTRY" --config "$work/missing.yml" status 2>&1); rc=$?
is "$rc" 3 "missing --config file: exit 3"
like "$out" 'missing.yml: cannot read the configuration: No such file' "missing file: says which and why"
mkdir -p "$work/empty"
out=$(cd "$work/empty" && env -u GANTRY_CONFIG XDG_CONFIG_HOME="$work/xdg" "$GANTRY" status 2>&1); rc=$?
like "$out" 'no configuration found' "no configuration anywhere: says where it looked"
out=$(cd "$work" && GANTRY_CONFIG="$cfg" "$GANTRY" status 2>&1); rc=$?
like "$out" '^ENVIRONMENT' "\$GANTRY_CONFIG is used when there is no --config"

# secrets from the environment and from files
printf 'project: x\nenvironments:\n  - name: a\n    url: http://127.0.0.1:%s\n    headers:\n      Authorization: {env: GANTRY_TEST_TOKEN}\n' "$(sandbox_port staging)" >"$work/sec.yml"
out=$(env -u GANTRY_TEST_TOKEN "$GANTRY" --config "$work/sec.yml" status 2>&1); rc=$?
like "$out" 'sec.yml:6:28: environments\[0\]\.headers\.Authorization: environment variable GANTRY_TEST_TOKEN is not set' "a secret from an unset variable: a positioned error"
out=$(GANTRY_TEST_TOKEN='Bearer s3cr3t-value' "$GANTRY" --config "$work/sec.yml" status 2>&1); rc=$?
is "$rc" 0 "a secret from the environment is used"
unlike "$out" 's3cr3t' "the secret never appears in the output"

done_testing
