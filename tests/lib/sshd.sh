# sshd.sh: real OpenSSH servers on loopback, one per sandbox "host".
# shellcheck shell=bash
#
#   sshd_setup DIR              a client key, HOME=DIR/home with an empty ~/.ssh
#   sshd_host NAME              start a host: its own sshd, host key and deploy dir
#   sshd_port NAME              its port
#   sshd_trust NAME             add its key to ~/.ssh/known_hosts (as [127.0.0.1]:PORT)
#   sshd_kill NAME              kill -9 its sshd and every session it serves
#   sshd_restart NAME           start it again, same port and host key
#   sshd_new_key NAME           give it a new host key (a "changed" key), restarting it
#   sshd_evil NAME MODE         start a hostile host instead: tests/sandbox/sshevil, its
#                               key trusted; MODE signal|garbage|hang|refuse (see there)
#   sshd_evil_mode NAME MODE    change what it answers from the next command on
#   sshd_stop_all
# Each host's deploy directory is SSHD_DIR/NAME/deploy. HOME is exported so gantry, ssh
# and ssh-keygen all read the test's ~/.ssh, never the machine's. SSHD_SETENV, an array of
# VAR=VALUE, is set in every session of the hosts started after it (sshd's SetEnv).

# shellcheck source=tests/lib/ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

SSHD_DIR=
SSHD_PIDS=
SSHD_SETENV=()

sshd_setup() {
	SSHD_DIR=$1
	mkdir -p "$SSHD_DIR/home/.ssh" /run/sshd
	chmod 700 "$SSHD_DIR/home/.ssh"
	export HOME="$SSHD_DIR/home"
	unset SSH_AUTH_SOCK
	ssh-keygen -q -t ed25519 -N '' -C gantry-test -f "$HOME/.ssh/id_ed25519" || return 1
	: >"$HOME/.ssh/known_hosts"
}

# sshd_free_port: a port nobody listens on and no other test has taken (tests/lib/ports.sh)
sshd_free_port() { free_port; }

sshd_port() { cat "$SSHD_DIR/$1/port"; }

sshd_run() {
	local name=$1 dir=$SSHD_DIR/$1 i
	/usr/sbin/sshd -D -e -f "$dir/sshd_config" >>"$dir/sshd.log" 2>&1 &
	echo $! >"$dir/pid"
	SSHD_PIDS="$SSHD_PIDS $!"
	for i in $(seq 1 100); do
		ssh-keyscan -T 1 -t ed25519 -p "$(sshd_port "$name")" 127.0.0.1 >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
		sleep 0.05
	done
	echo "sshd: $name did not start; see $dir/sshd.log" >&2
	return 1
}

sshd_host() {
	local name=$1 dir=$SSHD_DIR/$1
	mkdir -p "$dir/deploy"
	sshd_free_port >"$dir/port"
	rm -f "$dir/host_key" "$dir/host_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/host_key" || return 1
	cp "$HOME/.ssh/id_ed25519.pub" "$dir/authorized_keys"
	cat >"$dir/sshd_config" <<EOF
Port $(cat "$dir/port")
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
LogLevel ERROR
EOF
	if [ ${#SSHD_SETENV[@]} -gt 0 ]; then
		printf 'SetEnv' >>"$dir/sshd_config"
		printf ' "%s"' "${SSHD_SETENV[@]}" >>"$dir/sshd_config"
		echo >>"$dir/sshd_config"
	fi
	/usr/sbin/sshd -t -f "$dir/sshd_config" || return 1
	sshd_run "$name"
}

sshd_trust() {
	local name=$1
	printf '[127.0.0.1]:%s %s\n' "$(sshd_port "$name")" \
		"$(cut -d' ' -f1,2 "$SSHD_DIR/$name/host_key.pub")" >>"$HOME/.ssh/known_hosts"
}

sshd_kill() {
	local dir=$SSHD_DIR/$1 pid
	pid=$(cat "$dir/pid")
	# the listener and the per-connection processes it forked
	pkill -9 -f "sshd: .*" -P "$pid" 2>/dev/null
	for child in $(pgrep -P "$pid"); do kill -9 "$child" 2>/dev/null; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

sshd_restart() { sshd_run "$1"; }

sshd_new_key() {
	local name=$1 dir=$SSHD_DIR/$1
	sshd_kill "$name"
	rm -f "$dir/host_key" "$dir/host_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C "$name-new" -f "$dir/host_key" || return 1
	sshd_run "$name"
}

sshd_evil() {
	local name=$1 dir=$SSHD_DIR/$1 i
	mkdir -p "$dir"
	sshd_free_port >"$dir/port"
	rm -f "$dir/host_key" "$dir/host_key.pub"
	ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/host_key" || return 1
	echo "$2" >"$dir/mode"
	"$SSHEVIL" "$dir/host_key" "$(sshd_port "$name")" "$dir/mode" >"$dir/sshd.log" 2>&1 &
	echo $! >"$dir/pid"
	SSHD_PIDS="$SSHD_PIDS $!"
	for i in $(seq 1 100); do
		grep -q ready "$dir/sshd.log" 2>/dev/null && { sshd_trust "$name"; return 0; }
		sleep 0.05
	done
	echo "sshevil: $name did not start; see $dir/sshd.log" >&2
	return 1
}

sshd_evil_mode() { echo "$2" >"$SSHD_DIR/$1/mode"; }

sshd_stop_all() {
	local pid
	for pid in $SSHD_PIDS; do
		for child in $(pgrep -P "$pid" 2>/dev/null); do kill "$child" 2>/dev/null; done
		kill "$pid" 2>/dev/null
	done
	for pid in $SSHD_PIDS; do wait "$pid" 2>/dev/null; done
	SSHD_PIDS=
}

# sshd_ssh NAME CMD...: the OpenSSH client against a host, with the test's keys
# (OpenSSH reads the passwd entry's home, not $HOME, so every file is named)
sshd_ssh() {
	local name=$1
	shift
	ssh -o BatchMode=yes -o UserKnownHostsFile="$HOME/.ssh/known_hosts" -o GlobalKnownHostsFile=/dev/null \
		-i "$HOME/.ssh/id_ed25519" -F /dev/null -p "$(sshd_port "$name")" root@127.0.0.1 "$@"
}
