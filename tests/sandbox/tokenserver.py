#!/usr/bin/python3
"""A registry token service, as GHCR, Docker Hub and Gitea run one, for the test sandbox.

    tokenserver.py DIR USER PASSWORD [TLS_CERT TLS_KEY]

Makes an RSA key and a self-signed certificate in DIR (DIR/cert.pem is the registry's
auth.token.rootcertbundle), listens on 127.0.0.1 at a port the kernel picks (written to
DIR/port), and answers GET /token?service=S&scope=repository:NAME:pull: with the right
basic credentials, a JWT (RS256, the certificate in x5c) granting pull on NAME; without
them, 401. DIR/accounts, read on each request when it exists, adds accounts with their
rights, one "USER PASSWORD ACTIONS" a line (ACTIONS such as pull,push), as a token with
write:packages on GHCR may push. Every request is counted in DIR/requests. Signing uses the openssl command.
With TLS_CERT and TLS_KEY (PEM), it answers over HTTPS, as the public token services do."""
import base64
import http.server
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.parse

DIR, USER, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]
KEY, CERT = os.path.join(DIR, "key.pem"), os.path.join(DIR, "cert.pem")
ISSUER = "gantry-test-issuer"

subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=gantry-test-token", "-keyout", KEY, "-out", CERT],
               check=True, capture_output=True)
der = subprocess.run(["openssl", "x509", "-in", CERT, "-outform", "DER"],
                     check=True, capture_output=True).stdout


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims):
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    body = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=body.encode(),
                         check=True, capture_output=True).stdout
    return body + "." + b64url(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        with open(os.path.join(DIR, "requests"), "a") as f:
            f.write(self.path + "\n")
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        def basic(user, password):
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        allowed = {basic(USER, PASSWORD): (USER, ["pull"])}
        try:
            with open(os.path.join(DIR, "accounts")) as f:
                for line in f:
                    words = line.split()
                    if len(words) == 3:
                        allowed[basic(words[0], words[1])] = (words[0], words[2].split(","))
        except FileNotFoundError:
            pass
        if url.path != "/token":
            self.send_error(404)
            return
        if auth not in allowed:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="token"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        user, rights = allowed[auth]
        access = []
        for scope in q.get("scope", []):
            parts = scope.split(":")
            if len(parts) == 3 and parts[0] == "repository":
                access.append({"type": "repository", "name": parts[1],
                               "actions": [a for a in parts[2].split(",") if a in rights]})
        now = int(time.time())
        token = sign({"iss": ISSUER, "sub": user, "aud": q.get("service", [""])[0],
                      "exp": now + 300, "nbf": now - 10, "iat": now,
                      "jti": base64.b16encode(os.urandom(8)).decode(), "access": access})
        out = json.dumps({"token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
if len(sys.argv) > 5:
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(sys.argv[4], sys.argv[5])
    server.socket = tls.wrap_socket(server.socket, server_side=True)
with open(os.path.join(DIR, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
server.serve_forever()
