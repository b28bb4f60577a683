#!/bin/bash
# Each service's running tag, from the hosts' container runtime (deploy.running), and the
# drift between them: a worker that runs the app's image, moved to another build by hand,
# is flagged in the dashboard and in `gantry status`, keeps staging's tag from being
# promoted, and a deploy that brings them together again clears the flag. Real parts: the registry, podman with docker-compose,
# OpenSSH hosts whose docker is podman's remote client; gantry driven in tmux.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/containers.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/release.sh"
. "$srcdir/tests/lib/tui.sh"

work=$(mktemp -d /tmp/gantry-e2e-services.XXXXXX)
trap 'tui_stop; release_teardown >/dev/null 2>&1; rm -rf "$work"' EXIT
release_setup "$work" || { echo "Bail out! the release sandbox did not start"; exit 1; }
cfg=$work/gantry.yml
G() { "$GANTRY" --config "$cfg" "$@"; }
release_build sha-1111111 && release_build sha-2222222 || { echo "Bail out! images"; exit 1; }
dir=$(release_dir staging)
# a worker from the app's image, beside the app (as the approaches and igny8 shapes run)
cat >>"$dir/docker-compose.yml" <<'YAML'
  worker:
    image: ${APP_IMAGE}
    init: true
    network_mode: bridge
    restart: unless-stopped
YAML
G deploy staging sha-1111111 >/dev/null 2>&1 &&
	(cd "$dir" && docker-compose -p staging --env-file deploy.env up -d --no-deps worker) >/dev/null 2>&1 ||
	{ echo "Bail out! first deploy"; exit 1; }

plan 16

tui_start 130 40 "$GANTRY --config $cfg"
tui_wait 'staging +sha-1111111' 15
check "the detail pane lists each service with the tag it runs" \
	tui_wait 'services +app sha-1111111 . worker sha-1111111' 15
unlike "$(tui_screen)" 'service worker runs' "no drift while both run deploy.env's tag"

# the worker moved to another build by hand, deploy.env untouched
(cd "$dir" && APP_IMAGE=$REGISTRY/shop/app:sha-2222222 docker-compose -p staging --env-file deploy.env \
	up -d --no-deps worker) >/dev/null 2>&1
tui_keys r
check "the worker's other tag is marked" tui_wait 'services +app sha-1111111 . worker ! sha-2222222' 15
like "$(tui_screen)" 'root@127\.0\.0\.1:[0-9]+: service worker runs sha-2222222, deploy\.env names sha-1111111' \
	"the drift line says which service runs what"
like "$(tui_screen)" 'staging +sha-1111111 .* ! sha-1111111 ' "the table's DEPLOYED cell is flagged"

# staging's drift, then its host's services, from gantry status --json
staging_json() {
	G status --json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
e = [e for e in json.load(sys.stdin)["environments"] if e["name"] == "staging"][0]
print(e["drift"])
print(", ".join(s["service"] + " " + s["tag"] for s in e["hosts"][0]["services"]))'
}
json=$(staging_json)
is "$(printf '%s\n' "$json" | sed -n 1p)" services "gantry status --json: drift \"services\""
is "$(printf '%s\n' "$json" | sed -n 2p)" "app sha-1111111, worker sha-2222222" \
	"and each host's services with their tags"
# a listing that failed (podman slow under a loaded machine) is said as such, never as
# "no drift"; then the next round is asked
for try in 1 2 3; do
	st=$(G status 2>&1)
	printf '%s\n' "$st" | grep -q 'services not listed' || break
	diag "round $try: $(printf '%s\n' "$st" | grep staging)"
done
like "$st" 'staging .*service worker runs sha-2222222, deploy\.env names sha-1111111' \
	"gantry status names the drift"

# a promotion takes only a tag every service ran: staging's worker is on another build
out=$(G promote staging production --yes 2>&1)
is "$?" 6 "promote staging production is refused while staging's worker runs another build"
like "$out" "staging does not run sha-1111111 in full: on root@127\.0\.0\.1:[0-9]+, service worker runs sha-2222222" \
	"saying which service runs what"
is "$(release_version production)" "" "and production was not touched"

# a deploy of the worker's tag brings the app to it: the flag goes
G deploy staging sha-2222222 >/dev/null 2>&1
is "$?" 0 "deploy staging sha-2222222"
tui_keys r
check "after it, both run sha-2222222 and nothing is flagged" \
	tui_wait 'services +app sha-2222222 . worker sha-2222222' 15
tui_gone 'service worker runs' 10
unlike "$(tui_screen)" 'service worker runs' "the drift line is gone"

# a host whose docker cannot reach its daemon: the row says why, the rest is intact
printf '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n' >"$work/bin/docker"
tui_keys r
check "a host where deploy.running fails says so in the services row" \
	tui_wait 'services +deploy\.running failed on the host \(exit [0-9]+\)' 15
like "$(tui_screen)" 'hosts +. root@127\.0\.0\.1:[0-9]+ +up' "and the hosts row is intact"
tui_keys q
tui_gone 'ENVIRONMENT' 5
tui_stop
done_testing
