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
