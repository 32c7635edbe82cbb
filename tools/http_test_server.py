#!/usr/bin/env python3
"""Loopback HTTP server for the HTTPTransport tests (stdlib only).

Listens on two TCP ports of 127.0.0.1 (the tests call the second one "localhost", a different origin), and
optionally on a unix socket and on a TLS port with a freshly made self-signed certificate. Once listening it
prints one JSON line on stdout: {"port", "port2", "unix", "tlsPort", "caPath", "blackholePort"} (the last one
accepts no connection: connecting to it hangs). It exits when its standard input
closes (so a crashed test run leaves no server behind) or on SIGTERM.

Endpoints (any method unless said; an absolute request target, as sent to a proxy, is served the same way):
  /echo                       JSON: method, target, path, headers, bodyLength, bodySHA256, chunked, clientPort, server
  /bytes?size=N[&chunked=1]   N bytes of the test pattern; header X-Content-SHA256 is their digest
  /redirect?status=S&location=L   status S with Location L (the request body is read and ignored)
  /loop                       302 to itself
  /slow?delay=S               answers after S seconds
  /trickle?count=N&interval=S N body bytes, one every S seconds
  /stall?size=N&sent=K        announces N bytes, sends K, then stalls for a minute
  /continue                   an interim "100 Continue" head, then 201 with X-Final: yes
  /status?code=C              status C with an empty body (none at all for 204/304)
  /headers                    repeated and folded-looking headers
"""
import argparse
import hashlib
import json
import os
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# The download pattern. Tests regenerate it byte for byte: (i * 31 + 7) % 251 over a 64 KiB block, repeated.
BLOCK = bytes((i * 31 + 7) % 251 for i in range(65536))


def pattern_chunks(size):
    full, rest = divmod(size, len(BLOCK))
    for _ in range(full):
        yield BLOCK
    if rest:
        yield BLOCK[:rest]


def pattern_sha256(size):
    digest = hashlib.sha256()
    for chunk in pattern_chunks(size):
        digest.update(chunk)
    return digest.hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_label = "primary"

    def log_message(self, format, *args):  # keep the test output clean
        pass

    def do_GET(self):
        self.dispatch()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    # --- request body ---------------------------------------------------------------------------------------

    def read_body(self):
        """Reads the whole request body (Content-Length or chunked), returning (length, sha256, chunked)."""
        digest = hashlib.sha256()
        total = 0
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                line = self.rfile.readline()
                if not line:
                    raise ConnectionError("client closed mid-body")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return total, digest.hexdigest(), True
                total += self.read_exact(size, digest)
                self.rfile.readline()  # CRLF after the chunk
        length = int(self.headers.get("Content-Length") or 0)
        total = self.read_exact(length, digest)
        return total, digest.hexdigest(), False

    def read_exact(self, size, digest):
        remaining = size
        while remaining:
            data = self.rfile.read(min(remaining, 1 << 20))
            if not data:
                raise ConnectionError("client closed mid-body")
            digest.update(data)
            remaining -= len(data)
        return size

    # --- responses --------------------------------------------------------------------------------------------

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def dispatch(self):
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        try:
            body_length, body_sha, chunked = self.read_body()
        except (ConnectionError, ValueError):
            self.close_connection = True
            return
        route = getattr(self, "route_" + url.path.strip("/").replace("-", "_"), None)
        if route is None:
            self.reply(404, b"no such endpoint\n")
            return
        route(query, url, body_length, body_sha, chunked)

    def route_echo(self, query, url, body_length, body_sha, chunked):
        client = self.client_address
        document = {
            "method": self.command,
            "target": self.path,
            "path": url.path,
            "query": url.query,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "headerCounts": {name.lower(): len(self.headers.get_all(name)) for name in self.headers.keys()},
            "bodyLength": body_length,
            "bodySHA256": body_sha,
            "chunked": chunked,
            "clientPort": client[1] if isinstance(client, tuple) else 0,
            "server": self.server_label,
        }
        self.reply(200, json.dumps(document).encode(), [("Content-Type", "application/json")])

    def route_bytes(self, query, url, *_):
        size = int(query.get("size", "0"))
        chunked = query.get("chunked") == "1"
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("X-Content-SHA256", pattern_sha256(size))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        for chunk in pattern_chunks(size):
            if chunked:
                self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            else:
                self.wfile.write(chunk)
        if chunked:
            self.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n")

    def route_redirect(self, query, *_):
        status = int(query.get("status", "302"))
        self.reply(status, b"redirect body that must be discarded\n", [("Location", query.get("location", "/echo"))])

    def route_loop(self, *_):
        self.reply(302, b"", [("Location", "/loop")])

    def route_slow(self, query, *_):
        time.sleep(float(query.get("delay", "5")))
        self.reply(200, b"finally\n")

    def route_trickle(self, query, *_):
        count = int(query.get("count", "10"))
        interval = float(query.get("interval", "0.5"))
        self.send_response(200)
        self.send_header("Content-Length", str(count))
        self.end_headers()
        for _ in range(count):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(interval)

    def route_stall(self, query, *_):
        size = int(query.get("size", "1000"))
        sent = int(query.get("sent", "10"))
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.write(b"s" * sent)
        self.wfile.flush()
        time.sleep(60)
        self.close_connection = True

    def route_continue(self, *_):
        self.send_response_only(100)
        self.end_headers()
        self.reply(201, b"created\n", [("X-Final", "yes")])

    def route_status(self, query, *_):
        self.reply(int(query.get("code", "200")), b"")

    def route_headers(self, *_):
        self.reply(200, b"ok\n", [("X-Multi", "one"), ("X-Multi", "two"), ("X-Spaced", "  padded value  ")])


def make_server(label, server_class, address):
    handler = type(label.capitalize() + "Handler", (Handler,), {"server_label": label})
    server = server_class(address, handler)
    server.daemon_threads = True
    return server


class QuickTCPServer(ThreadingHTTPServer):
    request_queue_size = 256  # many concurrent connects must not overflow the listen backlog

    def server_bind(self):
        # HTTPServer.server_bind looks up the FQDN, which is slow and useless here.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 256


class TLSServer(QuickTCPServer):
    context = None

    def get_request(self):
        connection, address = super().get_request()
        # The handshake happens lazily, in the handler thread, so a client that rejects the certificate
        # does not stall the accept loop.
        return self.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request, client_address):
        pass  # failed handshakes are what the TLS tests provoke


def make_certificate(directory):
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def main():
    # A parent that spawned us from a thread with signals blocked passes that mask on: stopping must still work.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parser = argparse.ArgumentParser()
    parser.add_argument("--unix", help="also listen on this unix socket path")
    parser.add_argument("--tls", action="store_true", help="also serve HTTPS with a self-signed certificate")
    args = parser.parse_args()

    servers = [make_server("primary", QuickTCPServer, ("127.0.0.1", 0)),
               make_server("secondary", QuickTCPServer, ("127.0.0.1", 0))]
    info = {"port": servers[0].server_address[1], "port2": servers[1].server_address[1],
            "unix": None, "tlsPort": None, "caPath": None}
    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        servers.append(make_server("unix", UnixHTTPServer, args.unix))
        info["unix"] = args.unix
    if args.tls:
        directory = tempfile.mkdtemp(prefix="http-test-tls-")
        cert, key = make_certificate(directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        tls = make_server("tls", TLSServer, ("127.0.0.1", 0))
        tls.context = context
        servers.append(tls)
        info["tlsPort"] = tls.server_address[1]
        info["caPath"] = cert

    # A port whose (zero-length) accept queue is already full: connecting to it hangs, for connect timeouts.
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(0)
    filler = socket.create_connection(blackhole.getsockname())
    info["blackholePort"] = blackhole.getsockname()[1]

    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps(info), flush=True)

    # Exit when the test process goes away (its end of our stdin closes).
    sys.stdin.buffer.read()
    if args.unix and os.path.exists(args.unix):
        os.unlink(args.unix)
    os._exit(0)


if __name__ == "__main__":
    main()
