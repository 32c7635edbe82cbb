#!/usr/bin/env python3
"""A registry token service for the loopback world, as Docker Hub's auth.docker.io is for Docker Hub: a
distribution registry configured with `auth: token` sends clients here (`WWW-Authenticate: Bearer realm=...`), and
this answers GET /token?service=S&scope=repository:NAME:ACTIONS with a JWT (RS256, the signing certificate in its
x5c header) that the registry checks against its rootcertbundle.

  python3 tools/tokenserver.py --key KEY.pem --cert CERT.pem --issuer ISSUER [--users-file FILE] [--exit-with-parent]

Anonymous requests get `pull` only (Docker Hub's public images); a Basic login that matches a USER:PASSWORD line of
--users-file gets what it asks for. A wrong login is refused (401). Prints "READY <port>" once listening. Every
request is logged to stderr (user name only, never a password), for tests that check who asked.
"""
import argparse
import base64
import json
import os
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Tokens:
    def __init__(self, key_path, cert_path, issuer, users):
        with open(key_path, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        self.x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        self.issuer = issuer
        self.users = users

    def issue(self, service, subject, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        claims = {"iss": self.issuer, "sub": subject, "aud": service, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": secrets.token_hex(8), "access": access}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)


def handler_for(tokens):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def send(self, status, body, headers=()):
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            url = urlsplit(self.path)
            if url.path != "/token":
                self.send(404, {})
                return
            query = parse_qs(url.query)
            user = None
            authorization = self.headers.get("Authorization", "")
            if authorization.lower().startswith("basic "):
                try:
                    user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
                except ValueError:
                    user, password = "?", ""
                if tokens.users.get(user) != password:
                    print(f"token: refused login for {user}", file=sys.stderr, flush=True)
                    self.send(401, {"details": "wrong login"}, [("WWW-Authenticate", 'Basic realm="tokens"')])
                    return
            access = []
            for scope in query.get("scope", []):
                kind, _, rest = scope.partition(":")
                name, _, actions = rest.rpartition(":")
                wanted = [a for a in actions.split(",") if a]
                granted = wanted if user else [a for a in wanted if a == "pull"]
                access.append({"type": kind, "name": name, "actions": granted})
            print(f"token: {user or 'anonymous'} {json.dumps(access)}", file=sys.stderr, flush=True)
            token = tokens.issue(query.get("service", [""])[0], user or "", access)
            self.send(200, {"token": token, "access_token": token, "expires_in": 300})

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--issuer", required=True)
    parser.add_argument("--users-file")
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args()
    users = {}
    if args.users_file:
        with open(args.users_file) as f:
            for line in f:
                name, _, password = line.strip().partition(":")
                if name:
                    users[name] = password
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(Tokens(args.key, args.cert, args.issuer, users)))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.exit_with_parent:
        parent = os.getppid()

        def watch():
            while os.getppid() == parent:
                time.sleep(1)
            os._exit(0)

        threading.Thread(target=watch, daemon=True).start()
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
