#!/bin/bash
# The example configurations in examples/: each one loads without an error; each one's
# deploy plan is rendered (--dry-run) against the release sandbox (Debian's
# docker-registry, podman with docker-compose through its socket, OpenSSH hosts), with only
# its addresses rewritten to the sandbox's. Then each one is deployed for real, in a
# compose project shaped like its seed: CapaKraken's default plan, staging then production;
# the approaches note's one image with smoke checks; igny8's app stack beside its infra
# stack; and, from a registry that asks for a Bearer token, Refactor's ROLE=migrator image
# and LetsBe's Hub and tenant. Each is promoted where it has a second environment, and a
# failing build is rolled back by itself.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/containers.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/release.sh"

examples="gantry capakraken letsbe refactor approaches igny8"

work=$(mktemp -d /tmp/gantry-examples.XXXXXX)
trap 'release_teardown >/dev/null 2>&1; rm -rf "$work"' EXIT

# the secrets the examples name: set, so that they load (the sandbox registry asks for none)
export GHCR_TOKEN=sandbox LETSBE_REGISTRY_TOKEN=sandbox IGNY8_REGISTRY_PASSWORD=sandbox \
	GANTRY_EXAMPLE_TOKEN=sandbox

plan 184

# --- every example loads: `history NOPE` reads the whole file, then finds no such
# environment (exit 2); a configuration error would be file:line:col and exit 3 ---
mkdir -p "$work/load/secrets"
echo sandbox >"$work/load/secrets/ghcr-token"     # refactor.yml's {file: secrets/ghcr-token}
envs_of() {
	case $1 in
	refactor) echo production ;;
	approaches) echo stage prod ;;
	*) echo staging production ;;
	esac
}
cp "$srcdir"/examples/*.txt "$work/load/"       # the inventories the examples name
for ex in $examples; do
	cp "$srcdir/examples/$ex.yml" "$work/load/$ex.yml"
	out=$("$GANTRY" --config "$work/load/$ex.yml" history NOPE 2>&1)
	rc=$?
	if [ "$rc" = 2 ] && printf '%s' "$out" | grep -q "no environment \"NOPE\" in .*$ex.yml; environments: $(envs_of "$ex")\$"; then
		ok "examples/$ex.yml loads: environments $(envs_of "$ex")"
	else
		not_ok "examples/$ex.yml loads: environments $(envs_of "$ex")"
		diag "exit $rc:" "$out"
	fi
done
# the check above does notice a bad file
sed 's/^  ready: /  redy: /' "$srcdir/examples/capakraken.yml" >"$work/load/bad.yml"
out=$("$GANTRY" --config "$work/load/bad.yml" history NOPE 2>&1)
is "$?" 3 "a misspelt key in an example would fail the load check (exit 3)"
like "$out" "bad\.yml:[0-9]+:[0-9]+: defaults\.redy: unknown key" "with file:line:col"

# --- the sandbox: one for the whole file ---
release_setup "$work" || { echo "Bail out! the release sandbox did not start"; exit 1; }

# sandboxify EXAMPLE: examples/EXAMPLE.yml with its addresses pointed at the sandbox, into
# $work/ex/EXAMPLE.yml. Rewritten: the registry's url, host and repositories; each
# environment's url, hosts, deploy_dir, compose, and deploy.port and deploy.url where the
# example sets them. The first environment goes to the sandbox's staging host, the others
# to its production host; a second host is the other sandbox host (gantry refuses a host
# listed twice, so three or more hosts become these two). Everything else (steps,
# services, migrator, infra, ready paths, smoke, soak, ...) stays as written.
# (PyYAML comes with Debian's docker-compose.)
mkdir -p "$work/ex/secrets"
echo sandbox >"$work/ex/secrets/ghcr-token"
cat >"$work/sandboxify.py" <<'PY'
import json, sys, yaml
src, dst, registry, boxes = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
c = yaml.safe_load(open(src))
reg = c.get('registry')
if reg is None:     # no registry (examples/gantry.yml): the seeds' app and migrator images
    reg = {'migrator': 'shop/migrator'}
app, mig = reg.get('app'), reg.get('migrator')
reg.update(url='http://' + registry, app='shop/app')
reg.pop('host', None)
if mig is not None:
    reg['migrator'] = 'shop/app' if mig == app else 'shop/migrator'
c['registry'] = reg
d = c.get('defaults') or {}
for k in ('deploy_dir', 'compose', 'known_hosts'):
    d.pop(k, None)
ddeploy = d.get('deploy') or {}
for i, env in enumerate(c['environments']):
    order = [boxes[0], boxes[1]] if i == 0 else [boxes[1], boxes[0]]
    box = order[0]
    base = 'http://127.0.0.1:%s' % box['port']
    env['url'] = base
    # a host may be listed once only; an inventory becomes the two sandbox hosts
    n = 2 if env.pop('hosts_file', None) else min(len(env.get('hosts') or []), 2) or 1
    env['hosts'] = [{'address': order[j % 2]['addr'], 'deploy_dir': order[j % 2]['dir']}
                    for j in range(n)]
    env['deploy_dir'] = box['dir']
    env['compose'] = box['compose']
    env.pop('known_hosts', None)
    dep = env.get('deploy') or {}
    if 'port' in ddeploy or 'port' in dep:
        dep['port'] = int(box['port'])
    if 'url' in ddeploy or 'url' in dep:
        dep['url'] = base
    if dep:
        env['deploy'] = dep
yaml.safe_dump(c, open(dst, 'w'), default_flow_style=False, sort_keys=False, width=4096)
PY
box() {  # box NAME PORT HOST: one sandbox host, as JSON
	printf '{"port": "%s", "addr": "root@127.0.0.1:%s", "dir": "%s", "compose": "%s"}' "$2" \
		"$(sshd_port "$3")" "$(release_dir "$1")" \
		"DOCKER_HOST=$DOCKER_HOST docker-compose -p $1 --env-file deploy.env"
}
boxes="[$(box staging "$RELEASE_STAGING_PORT" staging-1), $(box production "$RELEASE_PROD_PORT" prod-1)]"
sandboxify() {
	/usr/bin/python3 "$work/sandboxify.py" "$srcdir/examples/$1.yml" "$work/ex/$1.yml" \
		"$REGISTRY" "$boxes"
}
for ex in $examples; do
	sandboxify "$ex" || { echo "Bail out! cannot rewrite examples/$ex.yml for the sandbox"; exit 1; }
done
# G EXAMPLE ARGS...: gantry on the sandbox copy of an example
G() {
	local ex=$1
	shift
	"$GANTRY" --config "$work/ex/$ex.yml" "$@"
}
# soaked EXAMPLE ENV SECONDS: waits until ENV's newest run has been over for SECONDS by the
# clock, as its own history says (the soak gantry checks), and no longer; at most 15 s.
soaked() {
	local ended tries=300
	ended=$(G "$1" history "$2" --json | /usr/bin/python3 -c \
		'import json, sys; print(max([r.get("ended") or 0 for r in json.load(sys.stdin)] or [0]))')
	[ "${ended:-0}" -gt 0 ] || { diag "soaked: $2 has no ended run: $(G "$1" history "$2" 2>&1)"; return 1; }
	while [ "$(date +%s)" -lt $((ended + $3)) ] && [ $((tries -= 1)) -gt 0 ]; do sleep 0.05; done
}

# Images whose tags fit each example's pattern: sha-<7> (the default), the full 40-hex git
# sha (letsbe, refactor), a bare short sha (approaches).
sha=sha-1a2b3c4
git40=4e1d2c9a7b3f0e8d6c5b4a3928170f6e5d4c3b2a
short=8b03f7a
for t in $sha $git40 $short; do release_build $t || { echo "Bail out! images"; exit 1; }; done
# CapaKraken's infra services (postgres, redis): stand-ins built from the same busybox
containers_image sandbox/stub 1 >/dev/null || { echo "Bail out! stub image"; exit 1; }
for h in staging-1 prod-1; do
	cat >>"$SSHD_DIR/$h/deploy/docker-compose.yml" <<EOF
  postgres:
    image: $REGISTRY/sandbox/stub:1
    init: true
    network_mode: bridge
  redis:
    image: $REGISTRY/sandbox/stub:1
    init: true
    network_mode: bridge
EOF
done
re_app="127\.0\.0\.1:[0-9]+/shop/app"
re_mig="127\.0\.0\.1:[0-9]+/shop/migrator"
re_run="sh \.gantry/runs/ID/run\.sh"
sp=$RELEASE_STAGING_PORT
pp=$RELEASE_PROD_PORT

# --- gantry.yml: the generic example, given hosts, gets the default plan as it is ---
out=$(G gantry deploy staging $sha --dry-run 2>&1)
is "$?" 0 "gantry.yml: deploy staging --dry-run exits 0"
like "$out" "1\. write deploy\.env +$re_run write-env APP_IMAGE=$re_app:$sha@sha256:[0-9a-f]{64} MIGRATOR_IMAGE=$re_mig:$sha@sha256:[0-9a-f]{64}\$" \
	"gantry.yml: deploy.env gets both images pinned by digest, and no APP_PORT"
like "$out" "4\. run migrator .* up --no-deps --no-color --exit-code-from migrator migrator\$" "gantry.yml: runs the migrator (no infra step)"
like "$out" "5\. start app .* up -d --no-deps app +\[switch: no cancel from here\]" \
	"gantry.yml: the fifth step starts the app and is the switch"
like "$out" "6\. wait for ready +$re_run wait-ready 'http://127\.0\.0\.1:$sp/api/ready' 120 2\$" \
	"gantry.yml: then waits for /api/ready, 2m every 2s (the defaults)"
like "$out" "dry run: nothing was started" "gantry.yml: and nothing was started"

# --- capakraken.yml: the default compose plan with infra, port and a host-side url ---
out=$(G capakraken deploy staging $sha --dry-run 2>&1)
is "$?" 0 "capakraken: deploy staging --dry-run exits 0"
like "$out" "write deploy\.env .* write-env APP_IMAGE=$re_app:$sha@sha256:[0-9a-f]{64} MIGRATOR_IMAGE=$re_mig:$sha@sha256:[0-9a-f]{64} APP_PORT=$sp\$" \
	"capakraken: deploy.env gets the app, the migrator and APP_PORT"
like "$out" "3\. pull images .* pull app migrator\$" "capakraken: pulls app and migrator"
like "$out" "4\. start postgres redis +.* up -d postgres redis\$" "capakraken: starts postgres and redis before migrating"
like "$out" "5\. run migrator .* up --no-deps --no-color --exit-code-from migrator migrator\$" "capakraken: runs the migrator once"
like "$out" "6\. start app .* up -d --no-deps app +\[switch" "capakraken: then switches the app"
like "$out" "7\. wait for ready +$re_run wait-ready 'http://127\.0\.0\.1:$sp/api/ready' 120 2\$" \
	"capakraken: the host waits for its own /api/ready (deploy.url), 2m every 2s"
unlike "$out" "smoke" "capakraken: staging has no smoke checks"
out=$(G capakraken deploy production $sha --dry-run 2>&1)
like "$out" "8\. smoke GET /api/health +$re_run http-check 'http://127\.0\.0\.1:$pp/api/health' 200\$" \
	"capakraken: production adds the smoke checks (the path shell-quoted)"
like "$out" "9\. smoke GET /api/version .* http-check 'http://127\.0\.0\.1:$pp/api/version' 200\$" \
	"capakraken: both of them"
like "$(printf '%s\n' "$out" | grep -E '^ +[0-9]+\. ' | tr '\n' ' ')" \
	"4\. start postgres redis .* 5\. run migrator .* 6\. start app .* 7\. wait for ready .*127\.0\.0\.1:$pp/api/ready' 120 2 " \
	"capakraken: production's own deploy: keeps the defaults' infra and migrator (merged key by key)"
like "$out" "no earlier healthy tag is known on production: if this fails, nothing rolls back" \
	"capakraken: auto_rollback with no history yet says nothing can roll back"

# --- letsbe.yml: own steps, Gitea-style git-sha tags, the Hub first, then tenants ---
out=$(G letsbe deploy staging $git40 --dry-run 2>&1)
is "$?" 0 "letsbe: deploy staging <git sha> --dry-run exits 0"
like "$out" "app +$re_app:$git40@sha256:[0-9a-f]{64}" "letsbe: a 40-hex git sha tag is deployable"
app_digest=$(printf '%s\n' "$out" | sed -n 's/^  app .*@\(sha256:[0-9a-f]*\)$/\1/p')
like "$out" "migrator +$re_app:$git40@$app_digest" "letsbe: the migrator is the Hub image itself"
like "$out" "steps on root@127\.0\.0\.1:$(sshd_port staging-1) \(then each other host\):" \
	"letsbe: the Hub's host first, then each other host"
like "$out" "1\. write deploy\.env .* write-env APP_IMAGE=$re_app:$git40@sha256:[0-9a-f]{64} MIGRATOR_IMAGE=.* LETSBE_TAG=$git40\$" \
	"letsbe: deploy.env also gets LETSBE_TAG for the tenant components"
like "$out" "4\. start and wait healthy .* up -d --wait --wait-timeout 120 +\[switch: no cancel from here\]" \
	"letsbe: the switch is the healthcheck-gated up"
like "$out" "5\. prisma migrate deploy +.* exec -T hub npx prisma migrate deploy\$" \
	"letsbe: the once step (prisma in the Hub container) is on the first host's plan"
like "$out" "6\. wait for ready +$re_run wait-ready 'http://127\.0\.0\.1:$sp/api/health' 60 2\$" \
	"letsbe: ready is the Hub's /api/health, 60 s"
out=$(G letsbe deploy production $git40 --dry-run 2>&1)
like "$out" "waves     2: 1 host, then 1; 5 at a time; each wave ready for 2m00s; no failure in a wave" \
	"letsbe: production rolls out in the seed's waves (on the sandbox's two hosts: the Hub, then the rest)" ||
	diag "$out"
out=$(G letsbe deploy staging sha-1a2b3c4 --dry-run 2>&1)
is "$?" 6 "letsbe: a tag outside the Gitea sha pattern is refused (exit 6)"
like "$out" "sha-1a2b3c4 does not match registry\.tags \(\^\[0-9a-f\]\{40\}\\\$\)" \
	"letsbe: saying it does not match registry.tags"

# --- refactor.yml: one image with a role variable, systemd restart as the switch ---
out=$(G refactor deploy production $git40 --dry-run 2>&1)
is "$?" 0 "refactor: deploy production --dry-run exits 0"
app_digest=$(printf '%s\n' "$out" | sed -n 's/^  app .*@\(sha256:[0-9a-f]*\)$/\1/p')
like "$out" "migrator +$re_app:$git40@$app_digest" \
	"refactor: no registry.migrator: the migrator is the app image (ROLE=migrator)"
like "$out" "3\. pull images .* pull rust-app migrator\$" "refactor: pulls rust-app and the migrator service"
like "$out" "4\. run migrations \(ROLE=migrator\) .* run --rm migrator\$" "refactor: migrates before the restart"
like "$out" "5\. restart refactor-platform +sudo systemctl restart refactor-platform\.service +\[switch: no cancel from here\]" \
	"refactor: the systemctl restart is the switch"
like "$out" "6\. unit is active +systemctl is-active refactor-platform\.service\$" \
	"refactor: the step after it is not the switch"
like "$out" "7\. wait for ready +$re_run wait-ready 'http://127\.0\.0\.1:$sp/api/health' 180 5\$" \
	"refactor: ready is /api/health through the url, 3m every 5s"
like "$out" "8\. smoke GET / +$re_run http-check 'http://127\.0\.0\.1:$sp/' 200\$" "refactor: the frontend smoke check"
out=$(G refactor rollback production --dry-run 2>&1)
is "$?" 6 "refactor: a rollback with no history yet is refused (exit 6)"
like "$out" "production has no run recorded .*gantry adopt production. records what it runs now" "refactor: and points to adopt"

# --- approaches.yml: one artifact, the same smoke checks on stage and prod ---
out=$(G approaches deploy stage $short --dry-run 2>&1)
is "$?" 0 "approaches: deploy stage <short sha> --dry-run exits 0"
like "$out" "3\. pull images .* pull backend worker\$" "approaches: pulls the one image's services, no migrator"
unlike "$out" "run migrator" "approaches: migrator: null means no migrator step"
like "$out" "4\. start app .* up -d --no-deps backend worker +\[switch" "approaches: the worker moves with the backend"
like "$out" "5\. wait for ready +$re_run wait-ready 'http://127\.0\.0\.1:$sp/ready' 180 2\$" "approaches: ready is /ready, 3m"
like "$out" "6\. smoke GET /health .* http-check 'http://127\.0\.0\.1:$sp/health' 200\$" "approaches: smoke /health"
like "$out" "7\. smoke GET /api/v1/health .* http-check 'http://127\.0\.0\.1:$sp/api/v1/health' 200\$" "approaches: smoke /api/v1/health"
like "$out" "8\. smoke GET /api/v1/system/status .* http-check 'http://127\.0\.0\.1:$sp/api/v1/system/status' 401\$" \
	"approaches: the authenticated status must answer 401 without a token"
out=$(G approaches deploy prod $short --dry-run 2>&1)
like "$out" "8\. smoke GET /api/v1/system/status .* http-check 'http://127\.0\.0\.1:$pp/api/v1/system/status' 401\$" \
	"approaches: prod runs the same smoke checks"

# --- approaches.yml for real: its one image (backend and worker), migrations at boot
# behind /ready, the smoke checks, stage to prod by digest, a failed smoke check rolled
# back. A compose project of its own on each sandbox host, on ports of its own. ---
a1=a1b2c3d a2=c0ffee1 abad=bad0bad
for t in $a1 $a2; do
	containers_image shop/app "$t" --version "$t" --shape approaches >/dev/null ||
		{ echo "Bail out! approaches images"; exit 1; }
done
# a build whose /api/v1/health went missing: ready passes, a smoke check does not
containers_image shop/app "$abad" --version "$abad" --shape approaches --without /api/v1/health \
	>/dev/null || { echo "Bail out! approaches images"; exit 1; }
asp=$(containers_free_port) app_=$(containers_free_port)
for h in staging-1 prod-1; do
	mkdir -p "$SSHD_DIR/$h/approaches"
	cat >"$SSHD_DIR/$h/approaches/docker-compose.yml" <<'EOF'
# seed 003's shape: one image, the backend and its worker
services:
  backend:
    image: ${APP_IMAGE}
    ports:
      - "${APP_PORT}:8080"
    init: true
    network_mode: bridge
    restart: unless-stopped
  worker:
    image: ${APP_IMAGE}
    command: ["/bin/worker"]
    init: true
    network_mode: bridge
    restart: unless-stopped
EOF
done
# pbox NAME PORT HOST DIR [COMPOSE OPTIONS]: a compose project of its own in DIR on a
# sandbox host, as JSON for sandboxify
pbox() {
	printf '{"port": "%s", "addr": "root@127.0.0.1:%s", "dir": "%s", "compose": "%s"}' "$2" \
		"$(sshd_port "$3")" "$SSHD_DIR/$3/$4" \
		"DOCKER_HOST=$DOCKER_HOST docker-compose ${5:+$5 }-p $1 --env-file deploy.env"
}
/usr/bin/python3 "$work/sandboxify.py" "$srcdir/examples/approaches.yml" "$work/ex/approaches-real.yml" \
	"$REGISTRY" "[$(pbox stage-a "$asp" staging-1 approaches), $(pbox prod-a "$app_" prod-1 approaches)]" ||
	{ echo "Bail out! cannot rewrite examples/approaches.yml"; exit 1; }
# the soak of an hour, made a second; the ready wait stays as written (3m)
sed -i 's/^\( *soak:\) 1h$/\1 1s/' "$work/ex/approaches-real.yml"
# image_of PROJECT SERVICE: the image digest its running container was made from
image_of() {
	podman ps --filter "label=com.docker.compose.project=$1" \
		--filter "label=com.docker.compose.service=$2" --format '{{.ImageID}}' | head -n 1
}
version_at() { curl -s --max-time 3 "http://127.0.0.1:$1/api/v1/health" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p'; }

out=$(G approaches-real deploy stage $a1 2>&1)
is "$?" 0 "approaches: deploy stage $a1 succeeds for real"
like "$out" "ok: http://127\.0\.0\.1:$asp/api/v1/system/status answered 401" \
	"approaches: the authenticated status answered 401 as it must"
is "$(version_at "$asp")" $a1 "approaches: stage's backend reports $a1"
is "$(image_of stage-a worker)" "$(image_of stage-a backend)" \
	"approaches: the worker runs the backend's very image"
out=$(G approaches-real deploy stage $a2 2>&1)
is "$?" 0 "approaches: and $a2 after it"
soaked approaches-real stage 1
out=$(G approaches-real promote stage prod --yes 2>&1)
is "$?" 0 "approaches: promote stage prod --yes (soak met)"
is "$(version_at "$app_")" $a2 "approaches: prod's backend reports $a2"
is "$(sed -n 's/^APP_IMAGE=.*@//p' "$SSHD_DIR/prod-1/approaches/deploy.env")" \
	"$(sed -n 's/^APP_IMAGE=.*@//p' "$SSHD_DIR/staging-1/approaches/deploy.env")" \
	"approaches: prod runs the very digest stage tested"
is "$(image_of prod-a worker)" "$(image_of prod-a backend)" "approaches: prod's worker moved with it"

# a build whose smoke check fails: prod goes back to $a2 by itself, worker too
out=$(G approaches-real deploy prod $abad --yes 2>&1)
is "$?" 7 "approaches: a tag whose smoke check fails is not kept"
like "$out" "failed: http://127\.0\.0\.1:$app_/api/v1/health answered 404, expected 200" \
	"approaches: the smoke check says what it got"
like "$out" "rollback \[[0-9]+/[0-9]+\] start app" "approaches: prod rolls back by itself"
is "$(version_at "$app_")" $a2 "approaches: prod's backend is back on $a2"
is "$(image_of prod-a worker)" "$(image_of prod-a backend)" "approaches: and its worker with it"
like "$(G approaches-real history prod 2>&1)" "deploy +$abad +rolled_back" "approaches: prod's history says rolled_back"

# --- igny8.yml for real: the app stack (backend, celery worker and beat, one image)
# beside an infra stack that no app deploy touches; migrations inside the new backend
# container after it starts, before it counts as ready; every service's image checked
# from the container runtime. The sandbox's hosts share one container runtime, where
# container names are global, so both environments check one infra stack; production
# gets one host here (its two hosts' plans are the dry run's below). ---
# The example's infra check runs `docker inspect`: the sandbox hosts' docker is podman's
# remote client (tests/lib/release.sh).
i1=sha-1c0ffee i2=sha-2c0ffee ibad=sha-3bad0ff
for t in $i1 $i2; do
	containers_image shop/app "$t" --version "$t" --shape igny8 >/dev/null ||
		{ echo "Bail out! igny8 images"; exit 1; }
done
# a build whose status route went missing: it starts and migrates, and never gets ready
containers_image shop/app "$ibad" --version "$ibad" --shape igny8 \
	--without /api/v1/system/status/ >/dev/null || { echo "Bail out! igny8 images"; exit 1; }
mkdir -p "$work/igny8-infra"
cat >"$work/igny8-infra/docker-compose.infra.yml" <<EOF
# seed 004's infra stack, a compose project of its own: Postgres and Redis stand-ins
services:
  postgres:
    image: $REGISTRY/sandbox/stub:1
    container_name: igny8_postgres
    init: true
    network_mode: bridge
  redis:
    image: $REGISTRY/sandbox/stub:1
    container_name: igny8_redis
    init: true
    network_mode: bridge
EOF
(cd "$work/igny8-infra" && docker-compose -f docker-compose.infra.yml -p igny8-infra up -d) \
	>"$work/igny8-infra/up.log" 2>&1 || { cat "$work/igny8-infra/up.log"; echo "Bail out! igny8 infra"; exit 1; }
infra_ids() {
	podman ps --filter label=com.docker.compose.project=igny8-infra --filter status=running \
		--format '{{.Names}} {{.ID}}' | sort
}
infra_before=$(infra_ids)
# production has two app hosts (the sandbox's two sshds, one container runtime): each its
# own deploy directory, compose project (the directory's name) and port, and one database
# per environment (here a folder, db-staging or db-production), as both hosts share one
isp=$(containers_free_port) ipp=$(containers_free_port) ipp2=$(containers_free_port)
for h in staging-1/igny8:$isp:staging prod-1/igny8-p:$ipp:production staging-1/igny8-p2:$ipp2:production; do
	d=$SSHD_DIR/${h%%:*} db=$work/igny8-db-${h##*:} h=${h%:*}
	mkdir -p "$d" "$db"
	cat >"$d/docker-compose.app.yml" <<EOF
# seed 004's app stack: backend, celery worker and beat, all from the backend image; /db
# stands for the database the infra stack keeps (the migrations' state)
x-backend: &backend
  image: \${APP_IMAGE}
  volumes:
    - $db:/db
  init: true
  network_mode: bridge
  restart: unless-stopped
services:
  backend:
    <<: *backend
    ports:
      - "${h#*:}:8080"
  celery-worker:
    <<: *backend
    command: ["/bin/celery", "worker"]
  celery-beat:
    <<: *backend
    command: ["/bin/celery", "beat"]
EOF
done
/usr/bin/python3 "$work/sandboxify.py" "$srcdir/examples/igny8.yml" "$work/ex/igny8-real.yml" "$REGISTRY" \
	"[$(pbox igny8-s "$isp" staging-1 igny8 "-f docker-compose.app.yml"), $(pbox igny8-p "$ipp" prod-1 igny8 "-f docker-compose.app.yml")]" ||
	{ echo "Bail out! cannot rewrite examples/igny8.yml"; exit 1; }
i2host="root@127.0.0.1:$(sshd_port staging-1)"
/usr/bin/python3 - "$work/ex/igny8-real.yml" "$SSHD_DIR" "$i2host" "$ipp2" <<'PY2' || { echo "Bail out! igny8-real.yml"; exit 1; }
import sys, yaml
f = sys.argv[1]
c = yaml.safe_load(open(f))
for env in c['environments']:
    env['hosts'] = env['hosts'][:1]
    if 'soak' in env:
        env['soak'] = '1s'          # an hour, made a second
prod = c['environments'][1]
# the compose project is each deploy directory's name
prod['compose'] = prod['compose'].replace(' -p igny8-p ', ' ')
prod['hosts'] = [{'address': prod['hosts'][0]['address'], 'deploy_dir': sys.argv[2] + '/prod-1/igny8-p'},
                 {'address': sys.argv[3], 'deploy_dir': sys.argv[2] + '/staging-1/igny8-p2',
                  'app_url': 'http://127.0.0.1:' + sys.argv[4]}]
c['defaults']['deploy']['ready_timeout'] = '8s'   # 2m: a build that never gets ready
yaml.safe_dump(c, open(f, 'w'), default_flow_style=False, sort_keys=False, width=4096)
PY2
# services_of PROJECT: each service of the app stack and the image its container runs,
# from the container runtime
services_of() {
	podman ps --filter "label=com.docker.compose.project=$1" \
		--format '{{index .Labels "com.docker.compose.service"}} {{.ImageID}}' | sort
}
# all_on TAG: what services_of prints when all three run shop/app:TAG
all_on() {
	local id
	id=$(podman image inspect --format '{{.Id}}' "$REGISTRY/shop/app:$1") || return 1
	printf 'backend %s\ncelery-beat %s\ncelery-worker %s\n' "${id:0:12}" "${id:0:12}" "${id:0:12}"
}
# two_on TAG: the same for a host without beat (it runs on the first host only)
two_on() { all_on "$1" | grep -v '^celery-beat'; }
status_at() { curl -s --max-time 3 "http://127.0.0.1:$1/api/v1/system/status/" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p'; }

out=$(G igny8-real deploy staging $i1 2>&1)
is "$?" 0 "igny8: deploy staging $i1 succeeds for real"
like "$(printf '%s\n' "$out" | tr '\n' ' ')" "\[3/8\] infra stack is up +ok in" "igny8: the infra check passed (docker inspect on the host)"
like "$(printf '%s\n' "$out" | tr '\n' ' ')" "\[5/8\] start backend and worker .*\[6/8\] django migrate .*Applying igny8_core\.$i1\.\.\. OK .*\[7/8\] start celery beat .*\[8/8\] wait for ready" \
	"igny8: migrations ran in the new backend container, after its start, before ready"
is "$(status_at "$isp")" $i1 "igny8: staging's /api/v1/system/status/ reports $i1"
is "$(services_of igny8-s)" "$(all_on $i1)" "igny8: backend, celery worker and beat all run $i1 (container runtime)"
# the infra stack down: the app deploy stops before it touches anything
podman stop -t 0 igny8_redis >/dev/null 2>&1
out=$(G igny8-real deploy staging $i2 2>&1)
is "$?" 7 "igny8: with Redis stopped, a deploy fails at the infra check"
like "$out" "igny8_redis is exited: start the infra stack first" "igny8: saying which container and what to do"
is "$(services_of igny8-s)" "$(all_on $i1)" "igny8: and staging still runs $i1 everywhere"
podman start igny8_redis >/dev/null 2>&1
out=$(G igny8-real deploy staging $i2 2>&1)
is "$?" 0 "igny8: and $i2 after it"
soaked igny8-real staging 1
out=$(G igny8-real promote staging production --yes 2>&1)
rc=$?; is "$rc" 0 "igny8: promote staging production --yes (soak met)"; [ "$rc" = 0 ] || diag "$out"
is "$(status_at "$ipp")" $i2 "igny8: production reports $i2"
is "$(services_of igny8-p)" "$(all_on $i2)" "igny8: every service of production's app stack runs $i2's image"
is "$(status_at "$ipp2")" $i2 "igny8: production's second host reports $i2 too"
is "$(services_of igny8-p2)" "$(two_on $i2)" "igny8: its backend and worker run $i2, and beat runs on the first host only"
like "$out" "django migrate" "igny8: the promotion migrated"
is "$(grep -cE '^\[[0-9]+/[0-9]+\] django migrate' <<<"$out")" 1 "igny8: once, on the first host"
is "$(infra_ids)" "$infra_before" "igny8: the infra stack's containers are the same ones, still running"

# a build that migrates and never gets ready: production moves back, all three together
out=$(G igny8-real deploy production $ibad --yes 2>&1)
is "$?" 7 "igny8: a build that never gets ready is not kept"
like "$out" "rollback \[[0-9]+/[0-9]+\] start celery beat" "igny8: production rolls back by itself, beat included"
unlike "$(printf '%s\n' "$out" | sed -n '/^rollback \[/,$p')" "django migrate" "igny8: the rollback does not migrate (forward only)"
is "$(status_at "$ipp")" $i2 "igny8: production reports $i2 again"
is "$(services_of igny8-p)" "$(all_on $i2)" "igny8: backend, worker and beat are back on $i2 together"
like "$out" "the other 1 host\(s\) were not touched" "igny8: the second host was not touched"
is "$(services_of igny8-p2)" "$(two_on $i2)" "igny8: and still runs $i2"
is "$(infra_ids)" "$infra_before" "igny8: the infra containers were not touched"
like "$(G igny8-real history production 2>&1)" "deploy +$ibad +rolled_back" "igny8: production's history says rolled_back"

# --- igny8.yml: app stack beside an infra stack, Django migrate, celery with the backend ---
out=$(G igny8 deploy staging $sha --dry-run 2>&1)
is "$?" 0 "igny8: deploy staging --dry-run exits 0"
like "$out" "3\. infra stack is up +for c in igny8_postgres igny8_redis; do s=\\\$\(docker inspect -f '\{\{\.State\.Status\}\}' \"\\\$c\"\)" \
	"igny8: the infra check gets docker's Go template with its braces ({{{{ in the file)"
like "$out" "4\. pull images .* pull backend celery-worker celery-beat\$" "igny8: pulls backend, worker and beat"
like "$out" "5\. start backend and worker .* up -d --no-deps backend celery-worker +\[switch: no cancel from here\]" \
	"igny8: the celery worker switches with the backend"
like "$out" "6\. django migrate +.* exec -T backend python manage\.py migrate\$" \
	"igny8: then migrates inside the new backend container"
like "$out" "7\. start celery beat +.* up -d --no-deps celery-beat\$" "igny8: beat on the first host"
like "$out" "8\. wait for ready +$re_run wait-ready 'http://127\.0\.0\.1:$sp/api/v1/system/status/' 120 2\$" \
	"igny8: ready is /api/v1/system/status/"
out=$(G igny8 deploy production $sha --dry-run 2>&1)
like "$out" "steps on root@127\.0\.0\.1:$(sshd_port prod-1) \(then each other host\):" \
	"igny8: production has two hosts, the first one's plan shown"
like "$(printf '%s\n' "$out" | grep -E '^ +[0-9]+\. ' | tr '\n' ' ')" "6\. django migrate .* 7\. start celery beat " \
	"igny8: the once steps are on the first host's plan"

# --- capakraken.yml for real: staging, then the soak, then production ---
out=$(G capakraken deploy staging $sha 2>&1)
is "$?" 0 "capakraken: deploy staging $sha succeeds"
like "$out" "\[4/7\] start postgres redis" "capakraken: its transcript starts the infra services"
like "$out" "applying migration 0001_create_users \.\.\. ok" "capakraken: and shows the migrator's output"
is "$(release_version staging)" $sha "capakraken: staging's app answers with the new tag"
like "$(cat "$(release_dir staging)/deploy.env")" "APP_PORT=$sp" "capakraken: deploy.env has the port"

out=$(G capakraken promote staging production --yes 2>&1)
is "$?" 6 "capakraken: promoting at once is refused by the 30m soak (exit 6)"
like "$out" "staging has run $sha for .*less than the soak time of 30m(00s)?" "capakraken: saying how long staging ran it"

sed -i 's/^\( *soak:\) 30m$/\1 1s/' "$work/ex/capakraken.yml"
soaked capakraken staging 1
out=$(G capakraken promote staging production --yes 2>&1)
is "$?" 0 "capakraken: with the soak met, promote staging production --yes succeeds"
like "$out" "\[9/9\] smoke GET /api/version" "capakraken: production's smoke checks ran"
is "$(release_version production)" $sha "capakraken: production answers with staging's tag"
staging_digest=$(sed -n 's/^APP_IMAGE=.*@//p' "$(release_dir staging)/deploy.env")
prod_digest=$(sed -n 's/^APP_IMAGE=.*@//p' "$(release_dir production)/deploy.env")
is "$prod_digest" "$staging_digest" "capakraken: production runs the very digest staging tested"
like "$(G capakraken history production 2>&1)" "promote +$sha +succeeded .*  \(migrated\)" \
	"capakraken: production's history has the promotion, which ran the migrator"

# a build whose app never gets ready: staging (no auto_rollback) keeps it until a rollback
# by hand; production rolls back by itself
cbad=sha-0bad0bad
release_build $cbad --no-ready || { echo "Bail out! images"; exit 1; }
sed -i 's/^\( *ready_timeout:\) 2m$/\1 6s/' "$work/ex/capakraken.yml"      # 2m in the example
out=$(G capakraken deploy staging $cbad 2>&1)
is "$?" 7 "capakraken: a build that never gets ready fails on staging (exit 7)"
like "$out" "rollback +by hand \(.gantry rollback staging.\) if it fails" "capakraken: staging's plan said the rollback is by hand"
out=$(G capakraken promote staging production --yes 2>&1)
is "$?" 6 "capakraken: and is never promoted (exit 6)"
out=$(G capakraken rollback staging 2>&1)
is "$?" 0 "capakraken: gantry rollback staging"
is "$(release_version staging)" $sha "capakraken: staging is back on $sha"
out=$(G capakraken deploy production $cbad --yes 2>&1)
is "$?" 7 "capakraken: the same build deployed on production fails (exit 7)"
unlike "$(printf '%s\n' "$out" | sed -n '/^rollback \[/,$p')" "run migrator" "capakraken: production rolls back by itself, without the migrator"
is "$(release_version production)" $sha "capakraken: production answers with $sha again"
like "$(G capakraken history production 2>&1)" "deploy +$cbad +rolled_back" "capakraken: production's history says rolled_back"

# --- gantry.yml for real: the generic example, given hosts, on the same two boxes ---
gsha=sha-5e6f7a8
release_build $gsha || { echo "Bail out! images"; exit 1; }
# 2m in the example: a build that never gets ready fails sooner here
/usr/bin/python3 - "$work/ex/gantry.yml" <<'PY2' || { echo "Bail out! gantry.yml"; exit 1; }
import sys, yaml
f = sys.argv[1]
c = yaml.safe_load(open(f))
c['defaults'].setdefault('deploy', {})['ready_timeout'] = '6s'
yaml.safe_dump(c, open(f, 'w'), default_flow_style=False, sort_keys=False, width=4096)
PY2
out=$(G gantry deploy staging $gsha 2>&1)
is "$?" 0 "gantry.yml: deploy staging $gsha succeeds for real"
like "$out" "run migrator" "gantry.yml: with the default plan's migrator step"
out=$(G gantry promote staging production 2>&1)
is "$?" 0 "gantry.yml: promote staging production (not protected: no --yes)"
is "$(release_version production)" $gsha "gantry.yml: production answers with $gsha"
out=$(G gantry deploy staging $cbad 2>&1)
is "$?" 7 "gantry.yml: a build that never gets ready fails on staging"
out=$(G gantry rollback staging 2>&1)
is "$?" 0 "gantry.yml: gantry rollback staging"
is "$(release_version staging)" $gsha "gantry.yml: staging is back on $gsha, its last good run"

# --- refactor.yml and letsbe.yml for real, from a registry that asks for a Bearer token
# as GHCR and Gitea do: gantry gets one with the example's username and password, and the
# hosts' pulls (docker-compose through podman, the host's docker login in DOCKER_CONFIG)
# get their own. Every image is pushed first: the token service grants pull only. ---
r1=1111111111aaaaaaaaaabbbbbbbbbbcccccccccc
r2=2222222222aaaaaaaaaabbbbbbbbbbcccccccccc
rbad=badbadbad0aaaaaaaaaabbbbbbbbbbcccccccccc
l1=1010101010dddddddddd0000000000eeeeeeeeee
l2=2020202020dddddddddd0000000000eeeeeeeeee
lbad=badbadbad0dddddddddd0000000000eeeeeeeeee
for t in $r1 $r2; do
	containers_image shop/app "$t" --version "$t" --shape refactor >/dev/null || { echo "Bail out! refactor images"; exit 1; }
done
# a build whose health route went missing: migrations pass, ready never does
containers_image shop/app "$rbad" --version "$rbad" --shape refactor --without /api/health >/dev/null ||
	{ echo "Bail out! refactor images"; exit 1; }
for t in $l1 $l2; do
	containers_image shop/app "$t" --version "$t" --shape letsbe >/dev/null &&
		containers_image letsbe/safety-wrapper "$t" --version "$t" >/dev/null &&
		containers_image letsbe/secrets-proxy "$t" --version "$t" >/dev/null ||
		{ echo "Bail out! letsbe images"; exit 1; }
done
containers_image shop/app "$lbad" --version "$lbad" --shape letsbe --without /api/health >/dev/null ||
	{ echo "Bail out! letsbe images"; exit 1; }
# the moving tags CI pushes beside the sha: a newer build nobody tested
for t in latest dev; do
	containers_image shop/app $t --version "$t-build" --shape letsbe >/dev/null || { echo "Bail out! letsbe :$t"; exit 1; }
done
rp=$(containers_free_port)
mkdir -p "$SSHD_DIR/prod-1/refactor"
cat >"$SSHD_DIR/prod-1/refactor/docker-compose.yml" <<EOF
# seed 002's shape: one image; ROLE=migrator makes it the migrator
services:
  rust-app:
    image: \${APP_IMAGE}
    ports:
      - "$rp:8080"
    init: true
    network_mode: bridge
    restart: unless-stopped
  migrator:
    image: \${MIGRATOR_IMAGE}
    environment:
      - ROLE=migrator
    network_mode: bridge
    restart: "no"
EOF
auth_compose="DOCKER_HOST=$DOCKER_HOST DOCKER_CONFIG=$CONTAINERS_DIR/auth docker-compose --env-file deploy.env"
/usr/bin/python3 "$work/sandboxify.py" "$srcdir/examples/refactor.yml" "$work/ex/refactor-real.yml" "$REGISTRY" \
	"[{\"port\": \"$rp\", \"addr\": \"root@127.0.0.1:$(sshd_port prod-1)\", \"dir\": \"$SSHD_DIR/prod-1/refactor\", \"compose\": \"$auth_compose\"}, $(box unused 1 staging-1)]" ||
	{ echo "Bail out! cannot rewrite examples/refactor.yml"; exit 1; }
# no systemd on the test machines: the unit's restart becomes the `compose up` it runs
/usr/bin/python3 - "$work/ex/refactor-real.yml" <<'PY2' || { echo "Bail out! refactor-real.yml"; exit 1; }
import sys, yaml
f = sys.argv[1]
c = yaml.safe_load(open(f))
dep = c['environments'][0]['deploy']
steps = [s for s in dep['steps'] if s['name'] != 'unit is active']
for s in steps:
    if s['name'] == 'restart refactor-platform':
        s['name'], s['run'] = 'compose up (the unit, without systemd)', '{compose} up -d {services}'
dep['steps'], dep['ready_timeout'], dep['ready_interval'] = steps, '6s', '1s'   # 3m every 5s
yaml.safe_dump(c, open(f, 'w'), default_flow_style=False, sort_keys=False, width=4096)
PY2
diag "refactor: no systemd here: the switch step runs the unit's compose project directly"

containers_registry_restart --token refactor-deploy sandbox && containers_write_auth ||
	{ echo "Bail out! the token registry"; exit 1; }
# the sandbox's token service is on another port of the registry's host: named, as
# Docker Hub's auth.docker.io would be (a registry's 401 alone sends no credentials there)
token_realm() { sed -i "/^registry:\$/a\\  token_realm: http://127.0.0.1:$(cat "$CONTAINERS_DIR/token/port")/token" "$1"; }
token_realm "$work/ex/refactor-real.yml"
: >"$CONTAINERS_DIR/token/requests"
# deploy.retag moves :stable: the deploy login's token may push, as one with write:packages
echo "refactor-deploy sandbox pull,push" >"$CONTAINERS_DIR/token/accounts"
# tag_digest REPO TAG: the digest the registry serves for a tag, asked with a token of its own
tag_digest() {
	local tok
	tok=$(curl -s -u refactor-deploy:sandbox "http://127.0.0.1:$(cat "$CONTAINERS_DIR/token/port")/token?service=gantry-sandbox-registry&scope=repository:$1:pull" |
		sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
	curl -s -o /dev/null -D - -H "Authorization: Bearer $tok" -H "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json" \
		"http://$REGISTRY/v2/$1/manifests/$2" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p'
}
d_r1=$(tag_digest shop/app $r1) d_r2=$(tag_digest shop/app $r2)
check "refactor: the registry serves $r1 and $r2 by digest" test -n "$d_r1" -a -n "$d_r2" -a "$d_r1" != "$d_r2"
is "$(tag_digest shop/app stable)" "" "refactor: there is no :stable before the first deploy"
app_image_of() { podman ps --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2" --format '{{.ImageID}}'; }
image_id() { podman image inspect --format '{{.Id}}' "$REGISTRY/$1" | cut -c1-12; }
version_of() { curl -s --max-time 3 "http://127.0.0.1:$1/api/version" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p'; }

out=$(G refactor-real deploy production $r1 --yes 2>&1)
is "$?" 0 "refactor: deploy production $r1 succeeds for real, through the token registry"
like "$(printf '%s\n' "$out" | tr '\n' ' ')" "run migrations \(ROLE=migrator\) .*applying migration 0003_index_orders \.\.\. ok .*compose up \(the unit" \
	"refactor: the image's ROLE=migrator run migrated before the switch"
is "$(sed -n 's/^MIGRATOR_IMAGE=//p' "$SSHD_DIR/prod-1/refactor/deploy.env")" \
	"$(sed -n 's/^APP_IMAGE=//p' "$SSHD_DIR/prod-1/refactor/deploy.env")" "refactor: app and migrator are one image, one digest"
is "$(version_of "$rp")" $r1 "refactor: production reports $r1"
is "$(app_image_of refactor rust-app)" "$(image_id shop/app:$r1)" "refactor: rust-app runs $r1's image (container runtime)"
like "$out" "retag +stable moved to $r1 in the registry once every host is ready" "refactor: the plan says :stable moves once ready"
like "$out" "stable now names $r1 in the registry" "refactor: and says it moved"
is "$(tag_digest shop/app stable)" "$d_r1" "refactor: the registry's :stable is $r1's digest"
like "$(cat "$CONTAINERS_DIR/token/requests")" "scope=repository%3Ashop%2Fapp%3A(pull%2Cpush|push%2Cpull)" \
	"refactor: gantry asked for a push token to move it (the registry's challenge names the scope)"
like "$(cat "$CONTAINERS_DIR/token/requests")" "account=refactor-deploy&scope=repository%3Ashop%2Fapp%3Apull" \
	"refactor: the host's pull got its own token with the deploy login"
like "$(cat "$CONTAINERS_DIR/token/requests")" "^/token\?service=gantry-sandbox-registry&scope=repository%3Ashop%2Fapp%3Apull\$" \
	"refactor: and gantry got one to read the digests"
out=$(G refactor-real deploy production $r2 --yes 2>&1)
is "$?" 0 "refactor: and $r2 after it"
is "$(tag_digest shop/app stable)" "$d_r2" "refactor: :stable follows to $r2"
out=$(G refactor-real deploy production $rbad --yes 2>&1)
is "$?" 7 "refactor: a build that never answers /api/health is not kept"
like "$out" "rollback \[[0-9]+/[0-9]+\] compose up" "refactor: production rolls back by itself"
unlike "$(printf '%s\n' "$out" | sed -n '/^rollback \[/,$p')" "ROLE=migrator" "refactor: without migrating (forward only)"
is "$(version_of "$rp")" $r2 "refactor: production reports $r2 again"
unlike "$out" "stable now names" "refactor: a build rolled back moves no tag"
is "$(tag_digest shop/app stable)" "$d_r2" "refactor: :stable still names $r2"
out=$(G refactor-real rollback production --yes 2>&1)
is "$?" 0 "refactor: gantry rollback production --yes"
is "$(version_of "$rp")" $r1 "refactor: goes to $r1, the last good run before $r2 (never to the failed build)"
is "$(app_image_of refactor rust-app)" "$(image_id shop/app:$r1)" "refactor: rust-app runs $r1's image again"
is "$(tag_digest shop/app stable)" "$d_r1" "refactor: and :stable names $r1 again, once it is ready"
# a token that may only pull (read:packages): the deploy stands, :stable does not move
rm -f "$CONTAINERS_DIR/token/accounts"
out=$(G refactor-real deploy production $r2 --yes 2>&1)
is "$?" 5 "refactor: a login that may not push: the deploy succeeds, and gantry exits 5"
like "$out" "production runs $r2, but stable was not moved in the registry: the registry http://[^ ]+ does not let refactor-deploy push to shop/app:stable \(HTTP 401\): moving a tag needs credentials that may push" \
	"refactor: and says who may not push where, and what it needs"
is "$(version_of "$rp")" $r2 "refactor: production runs $r2 all the same"
is "$(tag_digest shop/app stable)" "$d_r1" "refactor: :stable stays on $r1"
unlike "$out" "eyJ|refactor-deploy:sandbox" "refactor: neither the password nor a token is shown"

# LetsBe: its Hub first, then a tenant, from a Gitea-style registry (another login)
containers_registry_restart --token letsbe-deploy sandbox && containers_write_auth ||
	{ echo "Bail out! the token registry"; exit 1; }
lsp=$(containers_free_port) lpp=$(containers_free_port)
for d in staging-1/lb-hub-s:$lsp prod-1/lb-hub-p:$lpp; do
	mkdir -p "$SSHD_DIR/${d%%:*}"
	cat >"$SSHD_DIR/${d%%:*}/docker-compose.yml" <<EOF
# seed 001's Hub
services:
  hub:
    image: \${APP_IMAGE}
    ports:
      - "${d#*:}:8080"
    init: true
    network_mode: bridge
    restart: unless-stopped
EOF
done
for d in prod-1/lb-tenant-s staging-1/lb-tenant-p; do
	mkdir -p "$SSHD_DIR/$d"
	cat >"$SSHD_DIR/$d/docker-compose.yml" <<EOF
# seed 001's tenant: its components follow the platform release's sha
services:
  safety-wrapper:
    image: $REGISTRY/letsbe/safety-wrapper:\${LETSBE_TAG}
    init: true
    network_mode: bridge
    restart: unless-stopped
  secrets-proxy:
    image: $REGISTRY/letsbe/secrets-proxy:\${LETSBE_TAG}
    init: true
    network_mode: bridge
    restart: unless-stopped
EOF
done
/usr/bin/python3 "$work/sandboxify.py" "$srcdir/examples/letsbe.yml" "$work/ex/letsbe-real.yml" "$REGISTRY" \
	"[{\"port\": \"$lsp\", \"addr\": \"x\", \"dir\": \"x\", \"compose\": \"$auth_compose\"}, {\"port\": \"$lpp\", \"addr\": \"x\", \"dir\": \"x\", \"compose\": \"$auth_compose\"}]" ||
	{ echo "Bail out! cannot rewrite examples/letsbe.yml"; exit 1; }
token_realm "$work/ex/letsbe-real.yml"
# each environment: its Hub, then one tenant; compose 1.29 has no `up --wait`
/usr/bin/python3 - "$work/ex/letsbe-real.yml" "$SSHD_DIR" "$(sshd_port staging-1)" "$(sshd_port prod-1)" <<'PY2' ||
import sys, yaml
f, d, sp, pp = sys.argv[1:]
c = yaml.safe_load(open(f))
host = lambda port, name: {'address': 'root@127.0.0.1:' + port, 'deploy_dir': d + '/' + name}
c['environments'][0]['hosts'] = [host(sp, 'staging-1/lb-hub-s'), host(pp, 'prod-1/lb-tenant-s')]
c['environments'][1]['hosts'] = [host(pp, 'prod-1/lb-hub-p'), host(sp, 'staging-1/lb-tenant-p')]
for env in c['environments']:
    env['deploy_dir'] = env['hosts'][0]['deploy_dir']
c['environments'][1]['soak'] = '1s'
# the rollout's waves stay; its 2m soak and unhealthy_timeout become the test's seconds
c['environments'][1]['rollout'].update(soak='1s', unhealthy_timeout='8s')
for s in c['defaults']['deploy']['steps']:
    s['run'] = s['run'].replace(' --wait --wait-timeout 120', '')
c['defaults']['deploy']['ready_timeout'] = '8s'
yaml.safe_dump(c, open(f, 'w'), default_flow_style=False, sort_keys=False, width=4096)
PY2
	{ echo "Bail out! letsbe-real.yml"; exit 1; }
diag "letsbe: docker-compose 1.29 has no 'up --wait': the switch is 'up -d', and ready waits for the Hub"
# tenant_on DIR: the tags its components run, from the container runtime
tenant_on() {
	podman ps --filter "label=com.docker.compose.project=$1" --format '{{.Image}}' | sed 's/.*://' | sort -u
}

out=$(G letsbe-real tags 2>&1)
like "$out" "$l2" "letsbe: gantry tags lists the sha tags"
unlike "$out" "(^| )(latest|dev) " "letsbe: and never :latest or :dev, which move" && diag "$out"
out=$(G letsbe-real deploy staging latest 2>&1)
is "$?" 6 "letsbe: deploying :latest is refused"
out=$(G letsbe-real deploy staging $l1 2>&1)
is "$?" 0 "letsbe: deploy staging $l1: the Hub, then the tenant"
is "$(printf '%s\n' "$out" | grep -c 'All migrations have been successfully applied')" 1 \
	"letsbe: prisma migrate deploy ran once, in the new Hub container"
is "$(version_of "$lsp")" $l1 "letsbe: staging's Hub reports $l1"
is "$(tenant_on lb-tenant-s)" $l1 "letsbe: the tenant's components run $l1 (LETSBE_TAG)"
out=$(G letsbe-real deploy staging $l2 2>&1)
is "$?" 0 "letsbe: and $l2 after it"
soaked letsbe-real staging 1
out=$(G letsbe-real promote staging production --yes 2>&1)
is "$?" 0 "letsbe: promote staging production --yes"
like "$out" "^promote $l2 from staging to production" "letsbe: promotes staging's sha, not what :latest points at now"
is "$(version_of "$lpp")" $l2 "letsbe: production's Hub reports $l2"
is "$(tenant_on lb-tenant-p)" $l2 "letsbe: production's tenant runs $l2"
is "$(sed -n 's/^APP_IMAGE=.*@//p' "$SSHD_DIR/prod-1/lb-hub-p/deploy.env")" \
	"$(sed -n 's/^APP_IMAGE=.*@//p' "$SSHD_DIR/staging-1/lb-hub-s/deploy.env")" "letsbe: the very Hub digest staging tested"
out=$(G letsbe-real deploy production $lbad --yes 2>&1)
is "$?" 9 "letsbe: a Hub that never answers /api/health pauses the rollout in its first wave (exit 9)"
like "$out" "rollback \[[0-9]+/[0-9]+\] start and wait healthy" "letsbe: the Hub rolls back by itself"
is "$(version_of "$lpp")" $l2 "letsbe: production's Hub reports $l2 again"
is "$(tenant_on lb-tenant-p)" $l2 "letsbe: the tenant after it was never touched"
out=$(G letsbe-real rollout abort production -m "the Hub never got healthy" 2>&1)
like "$out" "carrying on run" "letsbe: rollout abort carries the paused rollout on, and ends it" || diag "$out"
like "$(G letsbe-real rollout status production 2>&1)" "no rollout in waves holds it" \
	"letsbe: and lets production go"
like "$(G letsbe-real history production 2>&1)" "deploy +$lbad +rolled_back" "letsbe: production's history says rolled_back"

done_testing
