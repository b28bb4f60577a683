#!/bin/bash
# containers-demo.sh: drives every function of containers.sh against the real thing and
# times each step: a registry (plain, then with htpasswd auth), podman, docker-compose 1.29.
# Run as root: bash tests/lib/containers-demo.sh [DIR]   (DIR: kept afterwards if given)
# Prints TAP; exits non-zero if a step failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/containers.sh
. "$here/containers.sh"
# shellcheck source=tests/lib/tap.sh
. "$here/tap.sh"

if [ $# -gt 0 ]; then
	top=$1
	mkdir -p "$top"
else
	top=$(mktemp -d /tmp/gantry-containers.XXXXXX)
	trap 'containers_teardown; rm -rf "$top"' EXIT
fi
trap 'containers_teardown' INT TERM

# timed NAME COMMAND...: run it, remember how long it took
TIMES=
timed() {
	local name=$1 start rc
	shift
	start=$EPOCHREALTIME
	"$@"
	rc=$?
	TIMES="$TIMES$(printf '%-34s %6.2f s' "$name" "$(echo "$EPOCHREALTIME - $start" | bc)")
"
	return $rc
}

# http_code URL: the status an URL answers with
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1"; }

# wait_code URL CODE: poll until URL answers CODE, 10 s at most
wait_code() {
	for _ in $(seq 1 200); do
		[ "$(http_code "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_grep FILE PATTERN: poll until FILE has a line matching PATTERN, 10 s at most
wait_grep() {
	for _ in $(seq 1 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# sandbox_pids DIR: processes whose command line names DIR (what the sandbox started)
sandbox_pids() {
	local pid
	for pid in /proc/[0-9]*; do
		pid=${pid#/proc/}
		[ "$pid" = $$ ] && continue
		grep -qF "$1" "/proc/$pid/cmdline" 2>/dev/null || continue
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
		echo "$pid $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	done
}

plan 34
dir=$top/plain

# --- setup -------------------------------------------------------------------------------
timed "setup (registry + podman service)" containers_setup "$dir"
check "containers_setup starts registry and podman service" test -S "$dir/podman.sock"
check "REGISTRY is 127.0.0.1:PORT and /v2/ answers 200" \
	test "$(http_code "http://$REGISTRY/v2/")" = 200
check "DOCKER_HOST answers _ping" \
	curl -sf --unix-socket "$dir/podman.sock" http://d/_ping -o /dev/null
check "podman uses the sandbox's store" \
	test "$(podman info --format '{{.Store.GraphRoot}}')" = "$dir/storage"
diag "REGISTRY=$REGISTRY DOCKER_HOST=$DOCKER_HOST"

# --- images -------------------------------------------------------------------------------
timed "image app v1.2.0 build+push" containers_image shop/app sha-1111111 --version 1.2.0 >"$dir/d1"
d1=$(cat "$dir/d1")
check "containers_image prints a digest" test "${d1#sha256:}" != "$d1" -a ${#d1} -eq 71
check "the digest is the registry's" test "$(containers_digest shop/app sha-1111111)" = "$d1"
timed "image app v1.3.0 --no-ready" containers_image shop/app sha-2222222 --version 1.3.0 --no-ready >/dev/null
check "second app tag pushed" curl -sf "http://$REGISTRY/v2/shop/app/manifests/sha-2222222" \
	-H 'Accept: application/vnd.oci.image.manifest.v1+json' -o /dev/null
timed "migrator --exit 0 build+push" containers_migrator shop/migrator sha-1111111 --exit 0 >"$dir/m1"
m1=$(cat "$dir/m1")
check "migrator pushed" test -n "$m1"
timed "migrator --exit 3 build+push" containers_migrator shop/migrator sha-2222222 --exit 3 \
	--output 'ERROR: relation "orders" already exists' >/dev/null
tags=$(curl -sf "http://$REGISTRY/v2/shop/migrator/tags/list")
check "tags list has both migrator tags" sh -c "echo '$tags' | grep -q sha-1111111 && echo '$tags' | grep -q sha-2222222"
d2=$(containers_image shop/app sha-3333333 --version 1.4.0 --format v2s2)
check "--format v2s2 pushes a docker manifest" \
	sh -c "curl -sfI http://$REGISTRY/v2/shop/app/manifests/sha-3333333 -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' | grep -qi 'docker.distribution.manifest.v2'"
diag "app digest $d1" "v2s2 digest $d2"

# --- compose --------------------------------------------------------------------------------
proj=$dir/deploy
port=$(containers_free_port)
containers_compose_project "$proj"
containers_deploy_env "$proj" "$REGISTRY/shop/app:sha-1111111" "$REGISTRY/shop/migrator:sha-1111111" "$port"
check "compose config -q validates" timed "compose config -q" containers_compose "$proj" config -q
check "compose pull" timed "compose pull (app+migrator)" containers_compose "$proj" pull -q
timed "compose run --rm migrator (exit 0)" containers_compose "$proj" run --rm migrator >"$dir/migrate1.out" 2>&1
check "run --rm migrator exits 0" test $? = 0
check "migrator output comes through" grep -q 'applying migration 0002_add_orders ... ok' "$dir/migrate1.out"
check "compose up -d app" timed "compose up -d app" containers_compose "$proj" up -d app 2>>"$dir/compose.err"
check "/api/ready answers 200" timed "app answering /api/ready" wait_code "http://127.0.0.1:$port/api/ready" 200
check "/api/version is 1.2.0" sh -c "curl -sf http://127.0.0.1:$port/api/version | grep -q '\"version\":\"1.2.0\",\"commit\":\"1111111\"'"
id1=$(podman ps -q --filter name=app)

# logs -f: a follower started now sees requests made after it
containers_compose "$proj" logs -f app >"$dir/logs.out" 2>&1 &
logs_pid=$!
wait_grep "$dir/logs.out" 'listening on :8080'
start=$EPOCHREALTIME
curl -s "http://127.0.0.1:$port/from-demo" >/dev/null
check "logs -f app streams a new request" wait_grep "$dir/logs.out" 'url:/from-demo'
TIMES="$TIMES$(printf '%-34s %6.2f s' "logs -f: request to line" "$(echo "$EPOCHREALTIME - $start" | bc)")
"
check "compose logs carry ANSI colour" grep -q $'\033\\[' "$dir/logs.out"

# a new tag: pull, migrate (fails with 3), recreate
containers_deploy_env "$proj" "$REGISTRY/shop/app:sha-2222222" "$REGISTRY/shop/migrator:sha-2222222" "$port"
timed "compose pull (new tag)" containers_compose "$proj" pull -q
timed "compose run --rm migrator (exit 3)" containers_compose "$proj" run --rm migrator >"$dir/migrate2.out" 2>&1
check "run --rm migrator passes exit 3 through" test $? = 3
check "migrator's own error line comes through" grep -q 'relation "orders" already exists' "$dir/migrate2.out"
check "up -d app on a changed tag" timed "compose up -d app (recreate)" containers_compose "$proj" up -d app 2>>"$dir/compose.err"
id2=$(podman ps -q --filter name=app)
check "the app container was recreated" test -n "$id2" -a "$id1" != "$id2"
check "/api/ready answers 404 with --no-ready" wait_code "http://127.0.0.1:$port/api/ready" 404
check "/api/version is 1.3.0" sh -c "curl -sf http://127.0.0.1:$port/api/version | grep -q 1.3.0"
curl -s "http://127.0.0.1:$port/after-recreate" >/dev/null
sleep 1
if kill -0 "$logs_pid" 2>/dev/null; then diag "logs -f still runs after the recreate"; else diag "logs -f ended with the old container"; fi
grep -q 'after-recreate' "$dir/logs.out" && diag "logs -f followed into the new container"
kill "$logs_pid" 2>/dev/null
wait "$logs_pid" 2>/dev/null

# --- teardown ---------------------------------------------------------------------------------
timed "teardown" containers_teardown
check "teardown leaves no process naming the sandbox" test -z "$(sandbox_pids "$dir")"
check "teardown leaves nothing mounted under the sandbox" sh -c "! grep -qF '$dir/' /proc/self/mountinfo"
check "the app port is closed" test "$(http_code "http://127.0.0.1:$port/api/health")" = 000
check "teardown again is a no-op" containers_teardown
sandbox_pids "$dir" | sed 's/^/# left: /'

# --- htpasswd -----------------------------------------------------------------------------
dir=$top/auth
timed "setup --htpasswd" containers_setup "$dir" --htpasswd gantry s3cret-pass
check "registry with htpasswd: /v2/ answers 401 without credentials" \
	test "$(http_code "http://$REGISTRY/v2/")" = 401
check "and 200 with them" \
	test "$(curl -s -o /dev/null -w '%{http_code}' -u gantry:s3cret-pass "http://$REGISTRY/v2/")" = 200
check "push with credentials" timed "image build+push (auth)" containers_image shop/app sha-4444444 --version 2.0.0 >/dev/null
proj=$dir/deploy
containers_compose_project "$proj"
containers_deploy_env "$proj" "$REGISTRY/shop/app:sha-4444444" "$REGISTRY/shop/app:sha-4444444" "$(containers_free_port)"
check "compose pull through the service with credentials" containers_compose "$proj" pull -q app
timed "teardown (auth)" containers_teardown
check "auth teardown leaves no process" test -z "$(sandbox_pids "$dir")"

printf '%s' "$TIMES" | sed 's/^/# time: /'
echo "$((TAP_COUNT - TAP_FAILED)) passed, $TAP_FAILED failed"
[ "$TAP_FAILED" -eq 0 ] && [ "$TAP_COUNT" -eq 34 ]
