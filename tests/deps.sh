#!/bin/sh
# Installs what building and testing gantry needs on Debian 12, when it is missing.
# Run as root (or with sudo available); does nothing when everything is there.
set -u
packages="build-essential autoconf automake libtool pkg-config libncurses-dev
libcurl4-openssl-dev libjansson-dev libssh-dev libyaml-dev check openssh-server
openssh-client procps tmux curl clang libclang-rt-14-dev python3 python3-yaml openssl
docker-registry podman runc crun slirp4netns fuse-overlayfs uidmap catatonit iptables
netavark aardvark-dns conmon busybox-static docker-compose zsh"

missing=
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "gantry: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "gantry: not root and no sudo; as root run: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || exit 1
# --no-install-recommends: keeps docker-compose and friends from pulling in an engine later
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null || exit 1
