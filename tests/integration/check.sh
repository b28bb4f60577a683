#!/bin/bash
# gantry check against the real parts of the release sandbox (registry, podman with
# docker-compose, OpenSSH hosts): every read path passes where it works, and each way it
# breaks fails on its own line with what to do; the exit status says whether all passed.
. "$srcdir/tests/lib/tap.sh"
. "$srcdir/tests/lib/containers.sh"
. "$srcdir/tests/lib/sshd.sh"
. "$srcdir/tests/lib/release.sh"

work=$(mktemp -d /tmp/gantry-check.XXXXXX)
trap 'release_teardown >/dev/null 2>&1; rm -rf "$work"' EXIT
release_setup "$work" || { echo "Bail out! the release sandbox did not start"; exit 1; }
cfg=$work/gantry.yml
G() { "$GANTRY" --config "$cfg" "$@"; }
# row OUTPUT ENV-OR-REGISTRY WHAT: that group's line for WHAT
row() { awk -v g="$2" -v w="$3" '/^[^ ]/ { in_g = ($0 == g) } in_g && index($0, "  ") == 1 &&
	substr($0, 9, length(w)) == w { print; exit }' <<<"$1"; }

plan 34

release_build sha-1111111 || { echo "Bail out! images"; exit 1; }

# --- read-only first: nothing is written on a host ---
out=$(G --read-only check production 2>&1)
is "$?" 8 "check exits 8 while a check fails (no app runs yet)"
like "$(row "$out" production runner)" "^  ok    runner +not installed: read-only" \
	"read-only: the runner is not installed, it goes along with each command"
if [ -e "$(release_dir production)/.gantry" ]; then not_ok "and nothing is written on the host"
else ok "and nothing is written on the host"; fi
like "$(row "$out" production health)" "^  FAIL  health +http://127\.0\.0\.1:[0-9]+/api/health: .*the app does not answer: start it" \
	"an app that does not answer fails with what to do"
like "$(row "$out" production login)" "^  ok    login +logged in to root@127\.0\.0\.1:" "the login passes"
like "$(row "$out" production "compose file")" "^  skip  compose file +no deploy.env yet: the first deploy writes it" \
	"before the first deploy, the compose file is not checked, and check says why"
like "$(row "$out" production services)" "^  skip  services +no deploy.env yet" "nor what runs"
unlike "$out" "^staging" "check ENV checks that environment only"

# --- after a deploy, everything passes ---
G deploy staging sha-1111111 >/dev/null 2>&1
out=$(G check staging 2>&1)
is "$?" 0 "check exits 0 when every check passes"
is "$(awk '/^[^ ]/ { print "[" $0 "]"; next } { w = substr($0, 9, 15); sub(/ +$/, "", w)
	print $1 " " w }' <<<"$out" | sed 's/^\[configuration .*/[configuration]/' | tr '\n' ,)" \
	"[configuration],[staging],ok health,ok ready,ok version,ok reachable,ok host key,ok login,ok deploy dir,ok runner,ok compose file,ok services,[registry],ok credentials,ok app image,ok migrator image,[13 checks: 13 passed, 0 failed]," \
	"one line per check, in order, under its environment, and a count"
like "$(row "$out" registry "app image")" "^  ok    app image +shop/app: 1 tags, 1 deployable \(\^sha-" \
	"the app image line counts the tags and the deployable ones"
like "$(row "$out" staging services)" "^  ok    services +1 running: app (sha-1111111|@sha256:[0-9a-f]{12})\$" \
	"the services line lists what runs (the migrator has exited)"

out=$(G check production 2>&1)
like "$(row "$out" production runner)" "^  ok    runner +gantry-runner [0-9]+ at \.gantry/bin/runner-[0-9]+-[0-9a-f]{12} \(installed now\)" \
	"without --read-only, check installs the runner and says so"
is "$(stat -c %a "$(release_dir production)/.gantry/bin")" 700 "in a directory only its user reads"

# --- each way it breaks ---
cp "$cfg" "$work/good.yml"
sed -i "s#deploy_dir: $SSHD_DIR/staging-1/deploy#deploy_dir: $SSHD_DIR/staging-1/nowhere#" "$cfg"
out=$(G check staging 2>&1)
is "$?" 8 "a missing deploy directory fails the check"
like "$(row "$out" staging "deploy dir")" "^  FAIL  deploy dir +cannot enter .*/staging-1/nowhere .*create it, or fix deploy_dir" \
	"and says which directory and what to do"
like "$(row "$out" staging runner)" "^  skip  runner +not tried: no deploy directory" "the checks after it are not tried"
like "$out" "13 checks: 9 passed, 1 failed, 3 not tried" "the count says what was not tried"

cp "$work/good.yml" "$cfg"
mv "$HOME/.ssh/known_hosts" "$work/known_hosts.saved"
out=$(G check staging 2>&1)
mv "$work/known_hosts.saved" "$HOME/.ssh/known_hosts"
like "$(row "$out" staging "host key")" "^  FAIL  host key +.*which is in no known_hosts file" \
	"an unknown host key fails, naming known_hosts"
like "$(row "$out" staging login)" "^  skip  login +not tried: the host key is not trusted" "and no login is tried"

sed -i "s/hosts: \[root@127.0.0.1:$(sshd_port staging-1)\]/hosts: [root@127.0.0.1:1]/" "$cfg"
out=$(G check staging 2>&1)
like "$(row "$out" staging reachable)" "^  FAIL  reachable +.*127\.0\.0\.1:1.*refused" "a closed port fails as unreachable"
like "$(row "$out" staging reachable)" "nothing listens there: start sshd on the host, or fix the port" \
	"and says what to do"
sed -i "s/hosts: \[root@127.0.0.1:1\]/hosts: [root@no-such-host.invalid]/" "$cfg"
out=$(G check staging 2>&1)
like "$(row "$out" staging reachable)" "name lookup failed.*the name does not resolve: fix the address in gantry.yml's hosts" \
	"a name that does not resolve says to fix the address"

cp "$work/good.yml" "$cfg"
compose_file=$(release_dir staging)/docker-compose.yml
cp "$compose_file" "$work/compose.saved"
echo "services: [not, a, map]" >"$compose_file"
out=$(G check staging 2>&1)
like "$(row "$out" staging "compose file")" "^  FAIL  compose file +.* config -q in .* exited [0-9]+.*fix the compose file" \
	"a broken compose file fails with compose's words"
cp "$work/compose.saved" "$compose_file"
# a host whose docker cannot list the containers
mv "$RELEASE_DIR/bin/docker" "$work/docker.saved"
printf '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n' >"$RELEASE_DIR/bin/docker"
chmod 755 "$RELEASE_DIR/bin/docker"
out=$(G check staging 2>&1)
is "$?" 8 "services that cannot be listed fail the check"
like "$(row "$out" staging services)" "^  FAIL  services +deploy\.running exited [0-9]+ in .*; set it to a command the host has \(podman in place of docker\), or to null" \
	"saying what to set"
mv "$work/docker.saved" "$RELEASE_DIR/bin/docker"

sed -i 's#^  migrator: shop/migrator#  migrator: shop/nothing-here#' "$cfg"
out=$(G check staging 2>&1)
like "$(row "$out" registry "migrator image")" "^  FAIL  migrator image +.*shop/nothing-here" \
	"a repository that is not there fails, naming it"
like "$(row "$out" registry "app image")" "^  ok    app image" "the other repository still passes"

cp "$work/good.yml" "$cfg"
sed -i 's#^  migrator: shop/migrator#  migrator: shop/migrator\n  tags: "^v[0-9]+$"#' "$cfg"
out=$(G check staging 2>&1)
like "$(row "$out" registry "app image")" "^  FAIL  app image +shop/app: 1 tags, none matching .*: push an image tagged that way, or fix tags" \
	"tags the pattern excludes fail with what to do"

# --- an environment of two hosts: each host's lines say which host ---
cp "$work/good.yml" "$cfg"
release_fleet || { echo "Bail out! the fleet hosts did not start"; exit 1; }
out=$(G check fleet 2>&1)
like "$out" "  ok    deploy dir      root@$RELEASE_FLEET1: .*/fleet-1/deploy is there" "a fleet's first host is named on its lines"
like "$out" "  ok    runner          root@$RELEASE_FLEET2: gantry-runner" "and its second"
like "$out" "  skip  compose file    root@$RELEASE_FLEET2: the environment has a plan of its own" \
	"and a plan of its own is not a compose project"

out=$(G check nowhere 2>&1)
is "$?" 2 "an unknown environment is a usage error"
like "$out" "no environment \"nowhere\"" "and says so"
