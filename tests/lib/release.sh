# release.sh: a release sandbox of real parts on loopback: the registry, podman with
# docker-compose through its socket, and two OpenSSH hosts (staging-1, prod-1) whose
# deploy directories hold a compose project, and whose sessions have docker-compose and
# docker (podman's remote client) on that runtime. Needs containers.sh and sshd.sh.
# shellcheck shell=bash
#
#   release_setup DIR           everything up; writes DIR/gantry.yml (staging, production)
#   release_build TAG [image options]
#                               app (shop/app) and migrator (shop/migrator) images for TAG,
#                               pushed; migrator options: --migrate-exit N, --migrate-sleep S,
#                               --migrate-output T; app: --no-ready; version = TAG
#   release_version ENV         the version the environment's app answers ("" when none)
#   release_dir ENV             its host's deploy directory
#   release_history ENV         its .gantry/history.jsonl
#   release_fleet               two more sshd hosts (fleet-1, fleet-2) and an environment
#                               "fleet" on both, with a plan of its own steps (no containers);
#                               a host refuses TAG (exit 9, printing the file first) while
#                               refuse-TAG is in its deploy directory; sets RELEASE_FLEET1/2
#                               (127.0.0.1:port)
#   release_wave N PARALLEL     N more sshd hosts (wave-1..N) and an environment "wave" on
#                               them that runs PARALLEL hosts at once after the first, with
#                               auto_rollback; its one step counts the hosts in it at once
#                               (printed "at once: K") and sleeps 2s; a host refuses TAG as
#                               the fleet's do; sets RELEASE_WAVE1..N (127.0.0.1:port)
#   release_teardown
# Apps: staging on RELEASE_STAGING_PORT, production on RELEASE_PROD_PORT.

RELEASE_DIR=

release_host() {
	case $1 in
	staging) echo staging-1 ;;
	production) echo prod-1 ;;
	esac
}

release_dir() { echo "$SSHD_DIR/$(release_host "$1")/deploy"; }

release_history() { cat "$(release_dir "$1")/.gantry/history.jsonl" 2>/dev/null; }

release_version() {
	local port
	case $1 in
	staging) port=$RELEASE_STAGING_PORT ;;
	production) port=$RELEASE_PROD_PORT ;;
	esac
	curl -s --max-time 3 "http://127.0.0.1:$port/api/version" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p'
}

# release_build TAG [options]: both images of a build
release_build() {
	local tag=$1 app=() mig=()
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		--no-ready) app+=(--no-ready) ;;
		--migrate-exit) mig+=(--exit "$2"); shift ;;
		--migrate-sleep) mig+=(--sleep "$2"); shift ;;
		--migrate-output) mig+=(--output "$2"); shift ;;
		esac
		shift
	done
	containers_image shop/app "$tag" --version "$tag" "${app[@]}" >/dev/null || return 1
	containers_migrator shop/migrator "$tag" --version "$tag" "${mig[@]}" >/dev/null || return 1
}

release_setup() {
	local dir=$1 h
	RELEASE_DIR=$dir
	mkdir -p "$dir" || return 1
	containers_setup "$dir/containers" >/dev/null || return 1
	sshd_setup "$dir/ssh" || return 1
	# the hosts' docker command, on the sandbox's container runtime
	containers_docker_cli "$dir/bin" || return 1
	SSHD_SETENV=("DOCKER_HOST=$DOCKER_HOST" "PATH=$dir/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	for h in staging-1 prod-1; do
		sshd_host "$h" || return 1
		sshd_trust "$h"
		containers_compose_project "$SSHD_DIR/$h/deploy" || return 1
	done
	RELEASE_STAGING_PORT=$(containers_free_port)
	RELEASE_PROD_PORT=$(containers_free_port)
	cat >"$dir/gantry.yml" <<YAML
# gantry.yml for the release sandbox: real registry, podman + docker-compose, sshd hosts
project: release-sandbox
registry:
  url: http://$REGISTRY
  app: shop/app
  migrator: shop/migrator
defaults:
  interval: 1s
  timeout: 800ms
  connect_timeout: 5s
  deploy:
    ready_timeout: 20s
    ready_interval: 1s
environments:
  - name: staging
    url: http://127.0.0.1:$RELEASE_STAGING_PORT
    hosts: [root@127.0.0.1:$(sshd_port staging-1)]
    deploy_dir: $SSHD_DIR/staging-1/deploy
    compose: DOCKER_HOST=$DOCKER_HOST docker-compose -p staging --env-file deploy.env
    deploy:
      port: $RELEASE_STAGING_PORT
  - name: production
    url: http://127.0.0.1:$RELEASE_PROD_PORT
    hosts: [root@127.0.0.1:$(sshd_port prod-1)]
    deploy_dir: $SSHD_DIR/prod-1/deploy
    compose: DOCKER_HOST=$DOCKER_HOST docker-compose -p production --env-file deploy.env
    protected: true
    deploy:
      port: $RELEASE_PROD_PORT
      auto_rollback: true
      ready_timeout: 6s
      smoke: [/api/version]
YAML
}

release_fleet() {
	local h
	for h in fleet-1 fleet-2; do
		sshd_host $h >/dev/null && sshd_trust $h || return 1
	done
	RELEASE_FLEET1=127.0.0.1:$(sshd_port fleet-1)
	RELEASE_FLEET2=127.0.0.1:$(sshd_port fleet-2)
	cat >>"$RELEASE_DIR/gantry.yml" <<YAML
  - name: fleet
    url: http://127.0.0.1:$RELEASE_STAGING_PORT
    hosts:
      - {address: root@$RELEASE_FLEET1, deploy_dir: $SSHD_DIR/fleet-1/deploy}
      - {address: root@$RELEASE_FLEET2, deploy_dir: $SSHD_DIR/fleet-2/deploy}
    deploy:
      running: null                   # no containers: its steps only echo
      steps:
        - {name: check host, run: "test ! -e refuse-{tag} || { cat refuse-{tag}; echo 'this host refuses {tag}'; exit 9; }"}
        - {name: write deploy.env, run: "{gantry} write-env APP_IMAGE={app_image}"}
        - {name: start app, run: "echo started {tag}", switch: true}
YAML
}

release_wave() {
	local n=$1 parallel=$2 i port
	mkdir -p "$RELEASE_DIR/wave-at-once"
	cat >>"$RELEASE_DIR/gantry.yml" <<YAML
  - name: wave
    url: http://127.0.0.1:$RELEASE_STAGING_PORT
    hosts:
YAML
	for i in $(seq 1 "$n"); do
		sshd_host "wave-$i" >/dev/null && sshd_trust "wave-$i" || return 1
		port=$(sshd_port "wave-$i")
		eval "RELEASE_WAVE$i=127.0.0.1:$port"
		echo "      - {address: root@127.0.0.1:$port, deploy_dir: $SSHD_DIR/wave-$i/deploy}" \
			>>"$RELEASE_DIR/gantry.yml"
	done
	cat >>"$RELEASE_DIR/gantry.yml" <<YAML
    deploy:
      parallel: $parallel
      auto_rollback: true
      running: null
      steps:
        - {name: check host, run: "test ! -e refuse-{tag} || { echo 'this host refuses {tag}'; exit 9; }"}
        - {name: write deploy.env, run: "{gantry} write-env APP_IMAGE={app_image}", switch: true}
        - {name: together, run: "d=$RELEASE_DIR/wave-at-once; touch \$d/\$\$; echo at once: \$(ls \$d | wc -l); sleep 2; rm -f \$d/\$\$"}
YAML
}

release_teardown() {
	sshd_stop_all
	containers_teardown
}
