# ports.sh: a free TCP port for a server a test starts itself.
# shellcheck shell=bash
#
#   free_port    print a port nobody listens on and no other test has taken
#
# Asking the kernel for port 0 and releasing it at once races with everything else on
# the machine: the port comes from the ephemeral range, where every outgoing connection
# of every test running alongside (SSH, HTTP, the registry) takes its local port, and a
# container published there seconds later found it "already in use". These ports come
# from below that range (20000 to 32767), and each is claimed for the test that asked by
# an atomic mkdir under ${TMPDIR:-/tmp}/gantry-ports, so two tests never pick the same
# one; a claim whose test has died is taken over.

free_port() {
	local dir="${GANTRY_PORTS_DIR:-/tmp/gantry-ports-$(id -u)}" p try owner
	mkdir -p "$dir" || return 1
	for try in $(seq 1 400); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
		if ! mkdir "$dir/$p" 2>/dev/null; then
			owner=$(cat "$dir/$p/pid" 2>/dev/null) || continue
			[ -n "$owner" ] && kill -0 "$owner" 2>/dev/null && continue
			rm -rf "$dir/$p" && mkdir "$dir/$p" 2>/dev/null || continue
		fi
		echo $$ >"$dir/$p/pid"
		if /usr/bin/python3 - "$p" <<'PY' 2>/dev/null; then
import socket, sys
port = int(sys.argv[1])
for host in ("0.0.0.0", "127.0.0.1"):
    s = socket.socket()
    s.bind((host, port))
    s.close()
PY
			echo "$p"
			return 0
		fi
	done
	echo "free_port: no free port between 20000 and 32767 after $try tries" >&2
	return 1
}
