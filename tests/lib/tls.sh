# tls.sh: a test certificate authority and server certificates, made with openssl.
# shellcheck shell=bash
#
#   tls_ca DIR NAME          DIR/NAME.pem and DIR/NAME.key: a CA, valid for two days
#   tls_server DIR CA NAME   DIR/NAME.pem and DIR/NAME.key: a server certificate for
#                            127.0.0.1 and localhost, signed by DIR/CA
#   tls_front CERT KEY PORT  a TLS front for 127.0.0.1:PORT (tests/sandbox/tlsproxy.py);
#                            its port in TLS_FRONT_PORT; TLS_FRONT_PIDS lists what to stop
#                            (call it as it is, not in $(...): a subshell's pids are lost)

TLS_FRONT_PIDS=
TLS_FRONT_PORT=

tls_ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		-keyout "$1/$2.key" -out "$1/$2.pem" 2>/dev/null
}

tls_server() {
	local dir=$1 ca=$2 name=$3
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" -keyout "$dir/$name.key" \
		-out "$dir/$name.csr" 2>/dev/null || return 1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$dir/$name.ext"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
		-CAcreateserial -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
}

tls_front() {
	local portfile pid
	portfile=$(mktemp -u "${TMPDIR:-/tmp}/gantry-tlsfront.XXXXXX")
	/usr/bin/python3 "$srcdir/tests/sandbox/tlsproxy.py" "$1" "$2" "$3" "$portfile" >/dev/null 2>&1 &
	pid=$!
	TLS_FRONT_PIDS="$TLS_FRONT_PIDS $pid"
	for _ in $(seq 1 200); do
		if [ -s "$portfile" ]; then
			TLS_FRONT_PORT=$(cat "$portfile")
			rm -f "$portfile"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}
