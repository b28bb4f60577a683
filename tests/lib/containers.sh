# containers.sh: a real container sandbox on loopback: a registry, podman and compose.
# shellcheck shell=bash
#
# Debian packages (install with --no-install-recommends, or docker-compose pulls in docker.io):
#   podman runc crun slirp4netns fuse-overlayfs uidmap catatonit iptables netavark
#   aardvark-dns conmon busybox-static docker-compose docker-registry curl
# and /usr/bin/python3 (Debian's 3.11: free ports, bcrypt through its crypt module).
# Run as root: rootful podman, with every store, socket, lock and log under DIR.
#
#   containers_registry DIR [--htpasswd USER PASS | --token USER PASS]
#                               the registry alone (no podman); exports REGISTRY. --token
#                               puts a token service in front (tests/sandbox/tokenserver.py),
#                               as GHCR, Docker Hub and Gitea do; its port in DIR/token/port
#   containers_registry_restart [--htpasswd USER PASS | --token USER PASS]
#                               the same registry and storage, now with (other) auth
#   containers_push_bare NAME TAG CREATED
#                               an image with no layers and a config created at CREATED
#                               (RFC 3339), pushed with curl; prints its digest
#   containers_setup DIR [--htpasswd USER PASS]
#                               registry + podman API service; exports REGISTRY, DOCKER_HOST,
#                               CONTAINERS_CONF, CONTAINERS_REGISTRIES_CONF,
#                               CONTAINERS_STORAGE_CONF, REGISTRY_AUTH_FILE, DOCKER_CONFIG
#   containers_image NAME TAG [--ready|--no-ready] [--version V] [--commit C]
#                    [--migrate-exit N] [--migrate-output TEXT] [--migrate-sleep S]
#                    [--format oci|v2s2]
#                               build a busybox image without network, push it to
#                               $REGISTRY/NAME:TAG, print its manifest digest (sha256:...)
#   containers_migrator NAME TAG [--exit N] [--output TEXT] [--sleep S]
#                               the same image, its CMD the migrator (prints, exits N)
#   containers_digest NAME TAG  the registry's Docker-Content-Digest of NAME:TAG
#   containers_compose_project DIR
#                               DIR/docker-compose.yml: services app and migrator
#   containers_deploy_env DIR APP_IMAGE MIGRATOR_IMAGE APP_PORT
#                               DIR/deploy.env naming what the project runs
#   containers_compose DIR ARGS...
#                               docker-compose --env-file deploy.env ARGS, run in DIR
#   containers_free_port        a port nobody listens on and no other test has taken
#   containers_docker_cli DIR   DIR/docker: the docker command a deploy host has, as
#                               podman's remote client on $DOCKER_HOST's socket
#   containers_teardown         remove every container and pod, stop service and registry
#
# Images: the app runs busybox httpd on 8080 serving /www: /api/health, /api/ready (absent
# with --no-ready: 404) and /api/version ({"version":V,"commit":C}); run it with --init (compose
# init: true), as httpd as PID 1 ignores SIGTERM. The migrator prints "applying migration ..."
# lines and exits with its status. Both are the same rootfs; only the CMD differs.

# shellcheck source=tests/lib/ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

CONTAINERS_DIR=
CONTAINERS_TLS=${CONTAINERS_TLS:-}
CONTAINERS_REGISTRY_USER=
CONTAINERS_REGISTRY_PASS=
CONTAINERS_REGISTRY_TOKEN=

# containers_free_port: a port nobody listens on and no other test has taken (tests/lib/ports.sh)
containers_free_port() { free_port; }

# containers_bcrypt USER PASS: an htpasswd line with a bcrypt hash (libxcrypt's $2b$, cost 5)
containers_bcrypt() {
	if /usr/bin/python3 -W ignore -c 'import crypt, sys; sys.exit(crypt.METHOD_BLOWFISH not in crypt.methods)' 2>/dev/null; then
		/usr/bin/python3 -W ignore -c 'import crypt, sys
print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)))' "$1" "$2"
	elif command -v htpasswd >/dev/null 2>&1; then
		htpasswd -nbB -C 5 "$1" "$2" | sed '/^$/d'
	else
		echo "containers: no bcrypt here: install apache2-utils (htpasswd)" >&2
		return 1
	fi
}

# containers_wait_http URL CODES PID [CURLARGS...]: poll until URL answers one of CODES
# (a |-list), while PID lives; 10 s at most
containers_wait_http() {
	local url=$1 codes=$2 pid=$3 code
	shift 3
	for _ in $(seq 1 200); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$@" "$url" 2>/dev/null) || true
		case "|$codes|" in *"|$code|"*) return 0 ;; esac
		containers_alive "$pid" || return 1
		sleep 0.05
	done
	return 1
}

# containers_alive PID: the process runs (a zombie, state Z, counts as gone)
containers_alive() {
	local state
	state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# containers_stop_pid PID: TERM, wait by state up to 10 s, then KILL; reaps our own children
containers_stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	containers_alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 200); do
		containers_alive "$pid" || break
		sleep 0.05
	done
	containers_alive "$pid" && kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	return 0
}

# containers_write_conf: containers.conf, registries.conf, storage.conf under DIR/conf
containers_write_conf() {
	local dir=$CONTAINERS_DIR nofile nproc
	nofile=$(ulimit -Hn)
	nproc=$(ulimit -Hu)
	[ "$nofile" = unlimited ] && nofile=1048576
	{ [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
	mkdir -p "$dir/conf" "$dir/storage" "$dir/run/libpod" "$dir/networks" "$dir/tmp"
	# The runroot in a short directory of its own: podman 4.3's `container cleanup`, the
	# command conmon runs when a container exits, refuses a runroot over 50 characters
	# ("the specified runroot is longer than 50 characters"). Without that cleanup an
	# exited container stays "stopped", and the API's /wait answers only after podman's
	# 20 s conmon timeout: docker-compose's `up --exit-code-from` then stalled 20 s
	# whenever it missed the container's die event (about one run in two under load).
	[ -L "$dir/run/short" ] || ln -s "$(mktemp -d /tmp/gcr.XXXXXX)" "$dir/run/short"
	mkdir -p "$dir/run/short/storage"
	# runc, cgroupfs: crun refuses this kind of machine's hybrid cgroup layout. The ulimits
	# stay within the hard limits, or runc's setrlimit fails. tmp_dir, locks, networks and
	# events live under DIR, so nothing reaches /run/libpod, /dev/shm or /etc/containers.
	cat >"$dir/conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[network]
network_backend = "netavark"
network_config_dir = "$dir/networks"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/run/events.log"
tmp_dir = "$dir/run/libpod"
image_copy_tmp_dir = "$dir/tmp"
lock_type = "file"
EOF
	cat >"$dir/conf/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "$REGISTRY"
insecure = true
EOF
	cat >"$dir/conf/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$dir/storage"
runroot = "$(readlink "$dir/run/short")/storage"
EOF
	export CONTAINERS_CONF=$dir/conf/containers.conf
	export CONTAINERS_REGISTRIES_CONF=$dir/conf/registries.conf
	export CONTAINERS_STORAGE_CONF=$dir/conf/storage.conf
}

# containers_write_auth: podman's auth file and docker-compose's config.json are one file
# (the "auths" format); empty without --htpasswd, so ~/.docker is never read
containers_write_auth() {
	local dir=$CONTAINERS_DIR/auth
	mkdir -p "$dir"
	if [ -n "$CONTAINERS_REGISTRY_USER" ]; then
		printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REGISTRY" \
			"$(printf '%s:%s' "$CONTAINERS_REGISTRY_USER" "$CONTAINERS_REGISTRY_PASS" | base64 -w0)" \
			>"$dir/config.json"
	else
		echo '{"auths":{}}' >"$dir/config.json"
	fi
	chmod 600 "$dir/config.json"
	export REGISTRY_AUTH_FILE=$dir/config.json
	export DOCKER_CONFIG=$dir
}

# containers_registry_start: docker-registry serve with its own config, on a free port
containers_registry_start() {
	local dir=$CONTAINERS_DIR/registry port pid
	mkdir -p "$dir/data"
	port=${CONTAINERS_REGISTRY_PORT:-$(containers_free_port)} || return 1
	REGISTRY=127.0.0.1:$port
	cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
  secret: gantry-sandbox-$port
EOF
	if [ -n "$CONTAINERS_TLS" ]; then
		cat >>"$dir/config.yml" <<EOF
  tls:
    certificate: $CONTAINERS_TLS/registry.pem
    key: $CONTAINERS_TLS/registry.key
EOF
	fi
	if [ -n "$CONTAINERS_REGISTRY_TOKEN" ]; then
		containers_token_start || return 1
		cat >>"$dir/config.yml" <<EOF
auth:
  token:
    realm: $(containers_scheme)://${CONTAINERS_TOKEN_REALM_HOST:-127.0.0.1}:$(cat "$CONTAINERS_DIR/token/port")/token
    service: gantry-sandbox-registry
    issuer: gantry-test-issuer
    rootcertbundle: $CONTAINERS_DIR/token/cert.pem
EOF
	elif [ -n "$CONTAINERS_REGISTRY_USER" ]; then
		containers_bcrypt "$CONTAINERS_REGISTRY_USER" "$CONTAINERS_REGISTRY_PASS" >"$dir/htpasswd" || return 1
		cat >>"$dir/config.yml" <<EOF
auth:
  htpasswd:
    realm: gantry-sandbox
    path: $dir/htpasswd
EOF
	fi
	# distribution reads every REGISTRY_* variable as a config override (REGISTRY_AUTH_FILE,
	# exported for podman, would become auth.file): start it without them
	# shellcheck disable=SC2046
	env $(env | sed -n 's/^\(REGISTRY_[A-Za-z0-9_]*\)=.*/-u \1/p') \
		docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/pid"
	# with auth, /v2/ answers 401 to a client without credentials: that is up too
	if ! containers_wait_http "$(containers_scheme)://$REGISTRY/v2/" '200|401' "$pid" \
		${CONTAINERS_TLS:+--cacert "$CONTAINERS_TLS/ca.pem"}; then
		echo "containers: registry did not start: $(tail -n 5 "$dir/registry.log" 2>/dev/null | tr '\n' '|')" >&2
		return 1
	fi
	export REGISTRY
}

# containers_token_start: the token service for --token (a real one: RS256 JWTs)
containers_token_start() {
	local dir=$CONTAINERS_DIR/token pid
	mkdir -p "$dir"
	rm -f "$dir/port"
	/usr/bin/python3 "${srcdir:-.}/tests/sandbox/tokenserver.py" "$dir" \
		"$CONTAINERS_REGISTRY_USER" "$CONTAINERS_REGISTRY_PASS" \
		${CONTAINERS_TLS:+"$CONTAINERS_TLS/token.pem" "$CONTAINERS_TLS/token.key"} >>"$dir/log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/pid"
	# its RSA key first: seconds on a loaded machine (an ASan suite beside it)
	for _ in $(seq 1 600); do
		[ -s "$dir/port" ] && return 0
		containers_alive "$pid" || break
		sleep 0.05
	done
	echo "containers: token service did not start: $(tail -n 5 "$dir/log" 2>/dev/null | tr '\n' '|')" >&2
	return 1
}

# containers_auth_mode [--htpasswd USER PASS | --token USER PASS]
containers_auth_mode() {
	CONTAINERS_REGISTRY_USER=
	CONTAINERS_REGISTRY_PASS=
	CONTAINERS_REGISTRY_TOKEN=
	case "${1:-}" in
	--htpasswd) CONTAINERS_REGISTRY_USER=$2 CONTAINERS_REGISTRY_PASS=$3 ;;
	--token) CONTAINERS_REGISTRY_USER=$2 CONTAINERS_REGISTRY_PASS=$3 CONTAINERS_REGISTRY_TOKEN=1 ;;
	'') ;;
	*) echo "containers: unknown auth $1" >&2; return 2 ;;
	esac
}

# containers_registry DIR [--htpasswd USER PASS | --token USER PASS]: the registry alone
containers_registry() {
	[ -n "${1:-}" ] || { echo "usage: containers_registry DIR [--htpasswd|--token USER PASS]" >&2; return 2; }
	mkdir -p "$1" || return 1
	CONTAINERS_DIR=$(cd -P "$1" && pwd)
	shift
	containers_auth_mode "$@" || return 1
	containers_registry_start
}

# containers_registry_restart [--htpasswd USER PASS | --token USER PASS]
containers_registry_restart() {
	local port=${REGISTRY##*:}
	containers_stop_pid "$(cat "$CONTAINERS_DIR/registry/pid" 2>/dev/null)"
	containers_stop_pid "$(cat "$CONTAINERS_DIR/token/pid" 2>/dev/null)"
	containers_auth_mode "$@" || return 1
	CONTAINERS_REGISTRY_PORT=$port containers_registry_start
}

# With CONTAINERS_TLS set to a directory holding ca.pem, registry.pem/.key and token.pem/.key
# (tests/lib/tls.sh), the registry and its token service answer over HTTPS.
containers_scheme() { if [ -n "$CONTAINERS_TLS" ]; then echo https; else echo http; fi; }
containers_curl() { curl ${CONTAINERS_TLS:+--cacert "$CONTAINERS_TLS/ca.pem"} "$@"; }

# containers_push_bare NAME TAG CREATED: a layerless image pushed with curl; prints its digest
containers_push_bare() {
	local name=$1 tag=$2 created=$3 dir loc cfg cfgd rc
	dir=$(mktemp -d "$CONTAINERS_DIR/bare.XXXXXX")
	cfg=$dir/config.json
	printf '{"architecture":"amd64","os":"linux","created":"%s","config":{},"rootfs":{"type":"layers","diff_ids":[]}}' \
		"$created" >"$cfg"
	cfgd=sha256:$(sha256sum "$cfg" | cut -d' ' -f1)
	loc=$(containers_curl -sf -i -X POST "$(containers_scheme)://$REGISTRY/v2/$name/blobs/uploads/" |
		tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }') || return 1
	case $loc in http*) ;; *) loc=$(containers_scheme)://$REGISTRY$loc ;; esac
	case $loc in *\?*) loc="$loc&" ;; *) loc="$loc?" ;; esac
	containers_curl -sf -X PUT "${loc}digest=$cfgd" -H 'Content-Type: application/octet-stream' \
		--data-binary @"$cfg" >/dev/null || return 1
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[]}' \
		"$cfgd" "$(stat -c %s "$cfg")" >"$dir/manifest.json"
	containers_curl -sf -i -X PUT "$(containers_scheme)://$REGISTRY/v2/$name/manifests/$tag" \
		-H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @"$dir/manifest.json" |
		tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2; found = 1 } END { exit !found }'
	rc=$?
	rm -rf "$dir"
	return $rc
}

# containers_service_start: podman's Docker-compatible API on DIR/podman.sock
containers_service_start() {
	local dir=$CONTAINERS_DIR pid
	rm -f "$dir/podman.sock"
	TMPDIR=$dir/tmp podman system service --time=0 "unix://$dir/podman.sock" >>"$dir/podman.log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/podman.pid"
	if ! containers_wait_http http://d/_ping 200 "$pid" --unix-socket "$dir/podman.sock"; then
		echo "containers: podman service did not start; see $dir/podman.log" >&2
		return 1
	fi
	export DOCKER_HOST=unix://$dir/podman.sock
}

# containers_setup DIR [--htpasswd USER PASS]: the registry, the configs and the podman service
containers_setup() {
	[ -n "${1:-}" ] || { echo "usage: containers_setup DIR [--htpasswd USER PASS]" >&2; return 2; }
	if [ "$(id -u)" -ne 0 ]; then
		echo "containers: needs root (rootful podman)" >&2
		return 1
	fi
	containers_registry "$@" || return 1
	containers_write_conf
	containers_write_auth
	containers_service_start
}

# containers_digest NAME TAG: the manifest digest the registry serves for NAME:TAG
# (without an Accept header the registry answers 400; podman pushes OCI, others push v2s2)
containers_digest() {
	local auth=()
	[ -n "$CONTAINERS_REGISTRY_USER" ] && auth=(-u "$CONTAINERS_REGISTRY_USER:$CONTAINERS_REGISTRY_PASS")
	curl -sfI --max-time 10 "${auth[@]}" \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		"http://$REGISTRY/v2/$1/manifests/$2" |
		tr -d '\r' | awk 'tolower($1) == "docker-content-digest:" { print $2; found = 1 } END { exit !found }'
}

# containers_rootfs DIR VERSION COMMIT READY MIGRATE_EXIT MIGRATE_OUTPUT MIGRATE_SLEEP SHAPE
# WITHOUT: a busybox root file system in DIR/rootfs, packed into DIR/rootfs.tar. SHAPE
# "approaches" is seed 003's one artifact: /health, /ready once its migrations at boot
# are done, /api/v1/health with the version, /api/v1/system/status behind basic auth
# (401 without it), and /bin/worker for the worker service. SHAPE "igny8" is seed 004's
# backend: /api/v1/system/status/ once `python manage.py migrate` has run against the
# database mounted at /db, and /bin/celery (worker, beat). SHAPE "refactor" is seed 002's
# one image: ROLE=migrator runs the migrations, anything else the app. SHAPE "letsbe" is
# seed 001's Hub, with `npx prisma migrate deploy`. WITHOUT is a path left out.
containers_rootfs() {
	local dir=$1 version=$2 commit=$3 ready=$4 mexit=$5 moutput=$6 msleep=$7 shape=${8:-}
	local without=${9:-} root=$1/rootfs applet
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/www/api"
	cp /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
	done
	chmod 1777 "$root/tmp"
	printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	printf '{"status":"ok"}\n' >"$root/www/api/health"
	[ "$ready" = 1 ] && printf '{"status":"ready"}\n' >"$root/www/api/ready"
	printf '{"version":"%s","commit":"%s"}\n' "$version" "$commit" >"$root/www/api/version"
	# the app: a line saying what starts, then httpd in the foreground, logging requests
	cat >"$root/bin/app" <<EOF
#!/bin/sh
echo "app $version (commit $commit) listening on :8080"
exec /bin/httpd -f -vv -p 8080 -h /www
EOF
	# the migrator: a few lines, then its exit status
	{
		echo '#!/bin/sh'
		echo "echo \"migrator $version (commit $commit)\""
		for m in 0001_create_users 0002_add_orders 0003_index_orders; do
			echo "echo 'applying migration $m ...'"
			[ "$msleep" != 0 ] && echo "sleep $msleep"
			echo "echo 'applying migration $m ... ok'"
		done
		[ -n "$moutput" ] && printf 'cat <<'"'"'GANTRY_EOF'"'"'\n%s\nGANTRY_EOF\n' "$moutput"
		if [ "$mexit" = 0 ]; then
			echo "echo 'migrations done'"
		else
			echo "echo 'migration failed: exit $mexit' >&2"
		fi
		echo "exit $mexit"
	} >"$root/bin/migrate"
	chmod 755 "$root/bin/app" "$root/bin/migrate"
	if [ "$shape" = approaches ]; then
		mkdir -p "$root/www/api/v1/system"
		printf '{"status":"ok"}\n' >"$root/www/health"
		printf '{"status":"ok","version":"%s"}\n' "$version" >"$root/www/api/v1/health"
		printf '{"db":"ok","migrations":"applied"}\n' >"$root/www/api/v1/system/status"
		printf '/api/v1/system:admin:sandbox-only\n' >"$root/etc/httpd.conf"
		cat >"$root/bin/app" <<EOF
#!/bin/sh
echo "backend $version (commit $commit): applying migrations at boot"
(sleep 1; echo "migrations applied"; printf '{"status":"ready"}\n' >/www/ready) &
exec /bin/httpd -f -vv -p 8080 -h /www -c /etc/httpd.conf
EOF
		cat >"$root/bin/worker" <<EOF
#!/bin/sh
echo "worker $version (commit $commit) waiting for jobs"
while :; do sleep 3600; done
EOF
		chmod 755 "$root/bin/app" "$root/bin/worker"
	fi
	if [ "$shape" = igny8 ]; then
		# seed 004's backend image: the status route answers once the database (/db, a
		# directory the app stack mounts) has this build's migrations; `python manage.py
		# migrate`, run in the backend container, applies them; celery worker and beat
		cat >"$root/bin/app" <<EOF
#!/bin/sh
echo "backend $version (commit $commit): gunicorn on :8080"
(until [ -f /db/migrated ]; do sleep 0.2; done
 [ "$without" = /api/v1/system/status/ ] && exit 0
 mkdir -p /www/api/v1/system/status
 printf '{"status":"ok","version":"%s","database":"migrated"}\n' "$version" \
	>/www/api/v1/system/status/index.html
 echo "database migrated: /api/v1/system/status/ answers") &
exec /bin/httpd -f -vv -p 8080 -h /www -c /etc/httpd.conf
EOF
		cat >"$root/bin/python" <<EOF
#!/bin/sh
[ "\$*" = "manage.py migrate" ] || { echo "usage: python manage.py migrate" >&2; exit 2; }
echo "Operations to perform:"
echo "  Apply all migrations: auth, core, igny8_core"
echo "Running migrations:"
if grep -qx "$version" /db/migrated 2>/dev/null; then echo "  No migrations to apply."; exit 0; fi
echo "  Applying igny8_core.$version... OK"
echo "$version" >>/db/migrated
EOF
		cat >"$root/bin/celery" <<EOF
#!/bin/sh
echo "celery \$1 $version (commit $commit) ready"
while :; do sleep 3600; done
EOF
		# Django answers JSON; busybox httpd types a file by its extension
		printf '.html:application/json\n' >"$root/etc/httpd.conf"
		chmod 755 "$root/bin/app" "$root/bin/python" "$root/bin/celery"
	fi
	if [ "$shape" = refactor ]; then
		# seed 002's one image: its entrypoint migrates when ROLE=migrator, else serves
		cat >"$root/bin/entry" <<EOF
#!/bin/sh
[ "\$ROLE" = migrator ] && exec /bin/migrate
exec /bin/app
EOF
		printf '<html><body>Refactor Platform</body></html>\n' >"$root/www/index.html"
		chmod 755 "$root/bin/entry"
	fi
	if [ "$shape" = letsbe ]; then
		# seed 001's Hub: Prisma's migrations run in its container (npx prisma migrate deploy)
		cat >"$root/bin/npx" <<EOF
#!/bin/sh
[ "\$*" = "prisma migrate deploy" ] || { echo "usage: npx prisma migrate deploy" >&2; exit 2; }
echo "Prisma schema loaded from prisma/schema.prisma"
echo "Applying migration \\\`$version\\\`"
echo "All migrations have been successfully applied."
EOF
		chmod 755 "$root/bin/npx"
	fi
	[ -n "$without" ] && rm -f "$root/www$without"
	tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$dir/rootfs.tar" .
}

# containers_image NAME TAG [options]: build, import and push an image; print its digest
containers_image() {
	local name=$1 tag=$2 version=1.0.0 commit ready=1 mexit='' moutput='' msleep=0 format=''
	local shape='' without='' image work cmd digest
	shift 2 || { echo "usage: containers_image NAME TAG [options]" >&2; return 2; }
	commit=${tag#sha-}
	while [ $# -gt 0 ]; do
		case $1 in
		--ready) ready=1 ;;
		--no-ready) ready=0 ;;
		--version) version=$2; shift ;;
		--commit) commit=$2; shift ;;
		--migrate-exit) mexit=$2; shift ;;
		--migrate-output) moutput=$2; [ -n "$mexit" ] || mexit=0; shift ;;
		--migrate-sleep) msleep=$2; [ -n "$mexit" ] || mexit=0; shift ;;
		--format) format=$2; shift ;;
		--shape) shape=$2; shift ;;
		--without) without=$2; shift ;;
		*) echo "containers_image: unknown option $1" >&2; return 2 ;;
		esac
		shift
	done
	image=$REGISTRY/$name:$tag
	work=$(mktemp -d "$CONTAINERS_DIR/tmp/image.XXXXXX") || return 1
	containers_rootfs "$work" "$version" "$commit" "$ready" "${mexit:-0}" "$moutput" "$msleep" \
		"$shape" "$without" || return 1
	if [ -n "$mexit" ]; then
		cmd='CMD ["/bin/migrate"]'
	elif [ "$shape" = refactor ]; then
		cmd='CMD ["/bin/entry"]'
	else
		cmd='CMD ["/bin/app"]'
	fi
	TMPDIR=$CONTAINERS_DIR/tmp podman import --quiet --change "$cmd" --change 'EXPOSE 8080' \
		--change "LABEL org.opencontainers.image.version=$version" \
		--change "LABEL org.opencontainers.image.revision=$commit" \
		"$work/rootfs.tar" "$image" >"$work/import.log" 2>&1 ||
		{ cat "$work/import.log" >&2; return 1; }
	TMPDIR=$CONTAINERS_DIR/tmp podman push --quiet --tls-verify=false ${format:+--format "$format"} "$image" >"$work/push.log" 2>&1 ||
		{ cat "$work/push.log" >&2; return 1; }
	rm -rf "$work"
	digest=$(containers_digest "$name" "$tag") || { echo "containers: no digest for $image" >&2; return 1; }
	echo "$digest"
}

# containers_migrator NAME TAG [--exit N] [--output TEXT] [--sleep S] [image options]
containers_migrator() {
	local name=$1 tag=$2 args=()
	shift 2 || return 2
	args=(--migrate-exit 0)
	while [ $# -gt 0 ]; do
		case $1 in
		--exit) args+=(--migrate-exit "$2"); shift ;;
		--output) args+=(--migrate-output "$2"); shift ;;
		--sleep) args+=(--migrate-sleep "$2"); shift ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	containers_image "$name" "$tag" "${args[@]}"
}

# containers_compose_project DIR: a compose file as on a deploy host; deploy.env fills it in
containers_compose_project() {
	mkdir -p "$1" || return 1
	cat >"$1/docker-compose.yml" <<'EOF'
# the sandbox's compose host: app and migrator images named by deploy.env
services:
  app:
    image: ${APP_IMAGE}
    ports:
      - "${APP_PORT}:8080"
    init: true
    network_mode: bridge
    restart: unless-stopped
  migrator:
    image: ${MIGRATOR_IMAGE}
    network_mode: bridge
    restart: "no"
EOF
}

# containers_deploy_env DIR APP_IMAGE MIGRATOR_IMAGE APP_PORT: what the host has deployed
containers_deploy_env() {
	cat >"$1/deploy.env" <<EOF
# written by the deploy
APP_IMAGE=$2
MIGRATOR_IMAGE=$3
APP_PORT=$4
EOF
}

# containers_compose DIR ARGS...: docker-compose 1.29 in DIR, through the podman service
containers_compose() {
	local dir=$1
	shift
	(cd "$dir" && docker-compose --env-file deploy.env "$@")
}

# containers_docker_cli DIR: a host's `docker` (inspect, ps ...): podman's remote client,
# on the socket named by DOCKER_HOST in the session, the one docker-compose talks to
containers_docker_cli() {
	mkdir -p "$1" || return 1
	cat >"$1/docker" <<'EOF'
#!/bin/sh
exec podman --remote --url "$DOCKER_HOST" "$@"
EOF
	chmod 755 "$1/docker"
}

# containers_unmount DIR: lazily unmount whatever is still mounted under DIR, deepest first
containers_unmount() {
	local mnt
	awk -v d="$1" 'index($5, d "/") == 1 || $5 == d { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r mnt; do umount -l "$mnt" 2>/dev/null || true; done
}

# containers_teardown: every container and pod gone, the service and the registry stopped.
# Idempotent and safe from an EXIT trap: it never fails and prints nothing but trouble.
# (Called from a || list, its steps run with errexit off even in a `set -e` test.)
containers_teardown() {
	containers_teardown_steps || true
	CONTAINERS_DIR=
	return 0
}

# containers_teardown_steps: what containers_teardown does, step by step
containers_teardown_steps() {
	local dir=$CONTAINERS_DIR pid log
	[ -n "$dir" ] || return 0
	log=$dir/teardown.log
	if [ -f "$dir/conf/containers.conf" ]; then
		export CONTAINERS_CONF=$dir/conf/containers.conf
		export CONTAINERS_STORAGE_CONF=$dir/conf/storage.conf
		export CONTAINERS_REGISTRIES_CONF=$dir/conf/registries.conf
		{
			timeout 60 podman pod rm -af -t 0
			timeout 60 podman rm -af -t 0
			timeout 30 podman network prune -f
		} >>"$log" 2>&1
	fi
	containers_stop_pid "$(cat "$dir/podman.pid" 2>/dev/null)"
	containers_stop_pid "$(cat "$dir/registry/pid" 2>/dev/null)"
	containers_stop_pid "$(cat "$dir/token/pid" 2>/dev/null)"
	rm -f "$dir/podman.pid" "$dir/registry/pid" "$dir/token/pid"
	# a conmon that outlived its container (it is not our child: PID 1 adopted it)
	for pid in $(pgrep -x conmon 2>/dev/null); do
		grep -qF "$dir/" "/proc/$pid/cmdline" 2>/dev/null && kill -9 "$pid" 2>/dev/null
	done
	containers_unmount "$dir"
	if [ -L "$dir/run/short" ]; then
		containers_unmount "$(readlink "$dir/run/short")"
		rm -rf "$(readlink "$dir/run/short")" "$dir/run/short"
	fi
	unset DOCKER_HOST
}
