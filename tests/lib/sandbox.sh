# sandbox.sh: start, flip and stop the sandbox's real app servers on loopback.
# shellcheck shell=bash
#
#   sandbox_start DIR           staging and production, each its own appserver
#   sandbox_set ENV QUERY       e.g. sandbox_set production 'ready=0'
#   sandbox_port ENV
#   sandbox_stop
# The servers listen on ports the kernel picks (port 0), so tests never collide.

: "${APPSERVER:?APPSERVER must name the appserver binary}"

SANDBOX_DIR=
SANDBOX_PIDS=

# sandbox_app DIR NAME VERSION: start one app server; its port lands in DIR/NAME.port
sandbox_app() {
	local dir=$1 name=$2 version=$3 i
	rm -f "$dir/$name.port"
	"$APPSERVER" --listen 127.0.0.1:0 --port-file "$dir/$name.port" --version "$version" \
		>"$dir/$name.log" 2>&1 &
	SANDBOX_PIDS="$SANDBOX_PIDS $!"
	echo $! >"$dir/$name.pid"
	for i in $(seq 1 200); do
		[ -s "$dir/$name.port" ] && return 0
		kill -0 "$!" 2>/dev/null || break
		sleep 0.02
	done
	echo "sandbox: $name did not start; see $dir/$name.log" >&2
	return 1
}

sandbox_port() { cat "$SANDBOX_DIR/$1.port"; }

# sandbox_set ENV QUERY: flip an app's state through its control endpoint
sandbox_set() {
	curl -fsS --max-time 5 "http://127.0.0.1:$(sandbox_port "$1")/_sandbox/set?$2" >/dev/null
}

# sandbox_config FILE [EXTRA]: a gantry.yml naming the sandbox's apps
sandbox_config() {
	local file=$1 interval=${SANDBOX_INTERVAL:-1s} timeout=${SANDBOX_TIMEOUT:-800ms}
	cat >"$file" <<YAML
# gantry.yml for the local sandbox: two real HTTP app servers on loopback
project: sandbox-shop
defaults:
  interval: $interval
  timeout: $timeout
environments:
  - name: staging
    url: http://127.0.0.1:$(sandbox_port staging)
  - name: production
    url: http://127.0.0.1:$(sandbox_port production)
YAML
}

sandbox_start() {
	SANDBOX_DIR=$1
	mkdir -p "$SANDBOX_DIR"
	sandbox_app "$SANDBOX_DIR" staging sha-4e1d2c9 || return 1
	sandbox_app "$SANDBOX_DIR" production sha-8b03f7a || return 1
	sandbox_config "$SANDBOX_DIR/gantry.yml"
}

sandbox_stop() {
	local pid
	for pid in $SANDBOX_PIDS; do kill "$pid" 2>/dev/null; done
	for pid in $SANDBOX_PIDS; do wait "$pid" 2>/dev/null; done
	SANDBOX_PIDS=
}

# sandbox_hosts: SSH hosts for the sandbox (needs sshd.sh): staging on one host,
# production on two, each with a deploy.env naming what its app runs and app and
# migrator logs that the tests append to. Rewrites the sandbox's gantry.yml to use them.
sandbox_hosts() {
	local dir=$SANDBOX_DIR h
	sshd_setup "$dir/ssh" || return 1
	for h in staging-1 prod-1 prod-2; do
		sshd_host "$h" || return 1
		sshd_trust "$h"
		: >"$SSHD_DIR/$h/deploy/app.log"
		: >"$SSHD_DIR/$h/deploy/migrator.log"
	done
	sandbox_deploy_env staging-1 sha-4e1d2c9
	sandbox_deploy_env prod-1 sha-8b03f7a
	sandbox_deploy_env prod-2 sha-8b03f7a
	sandbox_ssh_config "$dir/gantry.yml"
}

# sandbox_evil_env: a hostile host (sshd.sh's sshd_evil, answering "signal" first) as
# the environment "evil" of gantry.yml, with a 2 s command_timeout
sandbox_evil_env() {
	sshd_evil evil signal || return 1
	cat >>"$SANDBOX_DIR/gantry.yml" <<YAML
  - name: evil
    url: http://127.0.0.1:$(sandbox_port staging)
    command_timeout: 2s
    hosts:
      - address: root@127.0.0.1:$(sshd_port evil)
        deploy_dir: /srv/evil
YAML
}

# sandbox_deploy_env HOST TAG: what the host has deployed
sandbox_deploy_env() {
	cat >"$SSHD_DIR/$1/deploy/deploy.env" <<EOF2
# written by the deploy
APP_IMAGE=127.0.0.1:5000/shop/app:$2
MIGRATOR_IMAGE="127.0.0.1:5000/shop/migrator:$2"
APP_PORT=8080
EOF2
}

# sandbox_log HOST app|migrator LINE...: append lines to a host's log
sandbox_log() {
	local host=$1 log=$2
	shift 2
	printf '%s\n' "$@" >>"$SSHD_DIR/$host/deploy/$log.log"
}

sandbox_ssh_config() {
	local file=$1 interval=${SANDBOX_INTERVAL:-1s} timeout=${SANDBOX_TIMEOUT:-800ms}
	cat >"$file" <<YAML
# gantry.yml for the local sandbox: real HTTP apps and real OpenSSH hosts on loopback
project: sandbox-shop
defaults:
  interval: $interval
  timeout: $timeout
  connect_timeout: 5s
  logs:
    app: tail -n {tail} {follow} app.log
    migrator: tail -n {tail} {follow} migrator.log
environments:
  - name: staging
    url: http://127.0.0.1:$(sandbox_port staging)
    hosts:
      - address: root@127.0.0.1:$(sshd_port staging-1)
        deploy_dir: $SSHD_DIR/staging-1/deploy
  - name: production
    url: http://127.0.0.1:$(sandbox_port production)
    hosts:
      - address: root@127.0.0.1:$(sshd_port prod-1)
        deploy_dir: $SSHD_DIR/prod-1/deploy
      - address: root@127.0.0.1:$(sshd_port prod-2)
        deploy_dir: $SSHD_DIR/prod-2/deploy
YAML
}
