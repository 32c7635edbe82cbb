#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 reverse proxy for the loopback world: ecrpush talks to it as if it were the
registry, it forwards to the real one (docker-registry) and breaks what its rules say, the way a flaky network, a
registry restart or a throttling front end would.

  python3 tools/faultproxy.py --upstream http://127.0.0.1:PORT [--upstream-auth-file FILE]
  python3 tools/faultproxy.py --upstream unix:///path/to/docker.sock   (in front of a Docker Engine instead)

Prints "READY <port> <foreign-port>" on stdout once both listeners accept. The foreign port is a second origin
(another port is another origin) that forwards to the same registry: a rule can point upload Locations at it,
as a registry whose storage lives on another host would. With --upstream-auth-file (USER:PASSWORD) it may add the registry's login
itself (a presigned URL's stand-in), or forward requests as they come (then the registry asks for credentials).

Control, on the main port (never forwarded):
  POST /_fault/rules   a JSON list of rules, replacing the current ones
  GET  /_fault/log     every request seen: method, path, listener, whether it carried Authorization (and the user
                       name of a Basic one, never the password), its Content-Length (null: chunked), status sent,
                       its connection (the client's port), and its X-Amz-Target (an AWS JSON API's action)
  POST /_fault/reset   no rules, empty log

A rule: {"method": "PUT", "path": "regex on the path", "query": "regex on the query", "min_length": BYTES,
"max_length": BYTES, "chunked": true|false, "skip": 0, "times": 1, <one action>}. It applies to the matching requests
(with a body of at least min_length and at most max_length bytes, when given; with a chunked body or not, when given)
after the first `skip` ones, `times`
times (-1: always). The log says of each request whether its body was chunked. Actions:
  "status": 503, "headers": {...}, "body": "..."   answer this instead of forwarding (the request body is read)
  "reset": "before" | "during"                     drop the connection (RST) before forwarding, or half-way
                                                   through the request body (a chunked one: after 1 MiB of it)
  "stall": SECONDS                                 read the request, say nothing for that long, then close
  "refuse": SECONDS                                reset this connection and refuse every connection (no
                                                   listener) for that long, as during a registry restart
  "foreign": "presigned" | "strict"                forward, then point the answer's Location at the foreign port
  "rate": BYTES_PER_SECOND                         forward, then send the answer's body at that rate (a slow link)
  "flip": OFFSET                                   forward, then invert the byte at OFFSET of the answer's body
                                                   (bytes that changed on the way, or an Engine that lies)
  "drop_query": true                               forward without the query (a blob mount's POST then opens a
                                                   plain upload session, 202: ECR without blob mounting)
Runs until SIGTERM/SIGINT; --exit-with-parent stops it when its parent dies.
"""
import argparse
import base64
import http.client
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
from urllib.parse import urlsplit

lock = threading.Lock()
rules = []
log = []
refuse_until = [0.0]
state = {}
servers = {}


def reset_connection(conn):
    """Close with RST (SO_LINGER 0): the client sees 'connection reset', not a clean end."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        conn.close()


def basic_username(value):
    """The user name of a Basic Authorization header (what tests check went where); None otherwise."""
    if not value or not value.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(value[6:].strip()).decode("utf-8", "replace").split(":", 1)[0]
    except ValueError:
        return None


def read_head(reader):
    line = reader.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    headers = []
    while True:
        header = reader.readline(65537).decode("latin-1").rstrip("\r\n")
        if not header:
            break
        name, _, value = header.partition(":")
        headers.append((name.strip(), value.strip()))
    return method, target, headers


def header(headers, name):
    for key, value in headers:
        if key.lower() == name.lower():
            return value
    return None


def match(method, path, query, length, chunked):
    """The action of the first rule that applies, counting its use."""
    with lock:
        for rule in rules:
            if rule.get("method") and rule["method"] != method:
                continue
            if rule.get("path") and not re.search(rule["path"], path):
                continue
            if rule.get("query") and not re.search(rule["query"], query):
                continue
            if "min_length" in rule and length < rule["min_length"]:
                continue
            if "max_length" in rule and length > rule["max_length"]:
                continue
            if "chunked" in rule and rule["chunked"] != chunked:
                continue
            rule["seen"] = rule.get("seen", 0) + 1
            if rule["seen"] <= rule.get("skip", 0):
                continue
            times = rule.get("times", 1)
            if times != -1 and rule.get("used", 0) >= times:
                continue
            rule["used"] = rule.get("used", 0) + 1
            return rule
    return None


def send_response(conn, status, headers, body=b"", head_only=False, rate=None):
    lines = [f"HTTP/1.1 {status} {http.client.responses.get(status, 'Status')}"]
    names = {name.lower() for name, _ in headers}
    for name, value in headers:
        lines.append(f"{name}: {value}")
    if "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if head_only or not rate:
        conn.sendall(head + (b"" if head_only else body))
        return
    conn.sendall(head)
    # 50 pieces a second. A piece sent late (a busy machine) moves the next ones later too, never sooner: the
    # rate is at most `rate` over any stretch, as on a slow link, with no burst to catch up.
    piece, due = max(1, int(rate) // 50), time.monotonic()
    for offset in range(0, len(body), piece):
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        due = max(due, time.monotonic()) + piece / rate
        conn.sendall(body[offset:offset + piece])


def drain(reader, length):
    while length > 0:
        chunk = reader.read(min(length, 1 << 16))
        if not chunk:
            break
        length -= len(chunk)


def handle(conn, listener):
    reader = conn.makefile("rb")
    try:
        connection = conn.getpeername()[1]  # the client's port: which requests shared a connection
        while True:
            head = read_head(reader)
            if head is None:
                return
            method, target, headers = head
            path = urlsplit(target).path
            length = int(header(headers, "Content-Length") or 0)
            chunked = (header(headers, "Transfer-Encoding") or "").lower() == "chunked"
            if listener == "main" and path.startswith("/_fault/"):
                control(conn, reader, method, path, length)
                continue
            entry = {"method": method, "path": path, "listener": listener,
                     "authorization": header(headers, "Authorization") is not None,
                     "username": basic_username(header(headers, "Authorization")), "chunked": chunked,
                     "length": None if chunked else length, "status": None, "connection": connection,
                     "target": header(headers, "X-Amz-Target")}
            with lock:
                log.append(entry)
            rule = match(method, path, urlsplit(target).query, length, chunked) if listener == "main" else None
            if rule and "status" in rule:
                drain(reader, length)
                body = rule.get("body", "").encode()
                entry["status"] = rule["status"]
                send_response(conn, rule["status"], list(rule.get("headers", {}).items())
                              + [("Content-Type", "application/json")], body, head_only=method == "HEAD")
                continue
            if rule and rule.get("reset") == "before":
                entry["status"] = "reset"
                reset_connection(conn)
                return
            if rule and "stall" in rule:
                drain(reader, length)
                entry["status"] = "stall"
                time.sleep(rule["stall"])
                conn.close()
                return
            if rule and "refuse" in rule:
                entry["status"] = "refused"
                with lock:
                    refuse_until[0] = time.time() + rule["refuse"]
                    # Closed here, before this connection is reset: a client that reconnects at once is refused too.
                    servers["main"].close()
                reset_connection(conn)
                return
            if listener == "foreign" and state.get("foreign") == "presigned" and state.get("auth"):
                headers = [(n, v) for n, v in headers if n.lower() != "authorization"]
                headers.append(("Authorization", "Basic " + base64.b64encode(state["auth"].encode()).decode()))
            if rule and rule.get("drop_query"):
                target = urlsplit(target).path
            cut = length // 2 if rule and rule.get("reset") == "during" else None
            status = forward(conn, reader, method, target, headers, length, cut, rule, listener)
            entry["status"] = status
            if status == "reset":
                return
            if rule and "foreign" in rule:
                with lock:
                    state["foreign"] = rule["foreign"]
    except (ConnectionError, OSError, ValueError):
        return
    finally:
        try:
            conn.close()
        except OSError:
            pass


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (a Docker Engine's)."""

    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


def forward(conn, reader, method, target, headers, length, cut, rule, listener):
    if state.get("upstream_unix"):
        upstream = UnixHTTPConnection(state["upstream_unix"], timeout=300)
    else:
        upstream = http.client.HTTPConnection(state["upstream_host"], state["upstream_port"], timeout=300)
    upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for name, value in headers:
        if name.lower() not in ("connection", "keep-alive", "proxy-connection"):
            upstream.putheader(name, value)
    upstream.endheaders()
    if (header(headers, "Transfer-Encoding") or "").lower() == "chunked":
        # The docker CLI's uploads are chunked (no Content-Length), and so are ecrpush's of a layer still compressed.
        if not relay_chunked(reader, upstream, cut=(1 << 20) if cut is not None else None):
            upstream.close()
            reset_connection(conn)
            return "reset"
    remaining, sent = length, 0
    while remaining > 0:
        chunk = reader.read(min(remaining, 1 << 16))
        if not chunk:
            break
        if cut is not None and sent + len(chunk) >= cut:
            upstream.close()
            reset_connection(conn)
            return "reset"
        upstream.send(chunk)
        remaining -= len(chunk)
        sent += len(chunk)
    response = upstream.getresponse()
    body = b"" if method == "HEAD" else response.read()
    if rule and "flip" in rule and int(rule["flip"]) < len(body):
        flipped = bytearray(body)
        flipped[int(rule["flip"])] ^= 0xFF
        body = bytes(flipped)
    out = []
    for name, value in response.getheaders():
        if name.lower() in ("connection", "keep-alive", "transfer-encoding"):
            continue
        if name.lower() == "content-length" and method != "HEAD":
            continue
        if name.lower() == "location" and rule and "foreign" in rule:
            parts = urlsplit(value)
            value = f"http://127.0.0.1:{state['foreign_port']}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        out.append((name, value))
    if method != "HEAD":
        out.append(("Content-Length", str(len(body))))
    upstream.close()
    send_response(conn, response.status, out, body, head_only=method == "HEAD", rate=rule.get("rate") if rule else None)
    return response.status


def relay_chunked(reader, upstream, cut=None):
    """Forwards a chunked request body as it comes, framing included, up to its last chunk and trailers; with
    `cut`, stops once that many bytes of chunks are relayed and returns False (the caller resets the connection)."""
    relayed = 0
    while True:
        line = reader.readline()
        if not line:
            raise ConnectionError("the client closed a chunked body early")
        upstream.send(line)
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while True:
                trailer = reader.readline()
                upstream.send(trailer)
                if trailer in (b"\r\n", b"\n", b""):
                    return True
        remaining = size + 2  # the chunk and its CRLF
        while remaining > 0:
            data = reader.read(min(remaining, 1 << 16))
            if not data:
                raise ConnectionError("the client closed a chunked body early")
            upstream.send(data)
            remaining -= len(data)
            relayed += len(data)
            if cut is not None and relayed >= cut:
                return False


def control(conn, reader, method, path, length):
    body = reader.read(length) if length else b""
    global rules
    if path == "/_fault/rules" and method == "POST":
        with lock:
            rules = json.loads(body or b"[]")
        send_response(conn, 200, [("Content-Type", "application/json")], b"{}")
    elif path == "/_fault/log":
        with lock:
            payload = json.dumps(log).encode()
        send_response(conn, 200, [("Content-Type", "application/json")], payload)
    elif path == "/_fault/reset" and method == "POST":
        with lock:
            rules, log[:] = [], []
            state.pop("foreign", None)
        send_response(conn, 200, [("Content-Type", "application/json")], b"{}")
    else:
        send_response(conn, 404, [], b"")


def listen(port):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    return server


def serve(port, listener, ready):
    server = listen(port)
    servers[listener] = server
    ready.append(server.getsockname()[1])
    port = server.getsockname()[1]
    while True:
        with lock:
            wait = refuse_until[0] - time.time()
        if wait > 0 and listener == "main":
            server.close()  # nothing listens: connections are refused
            time.sleep(wait)
            with lock:
                server = servers[listener] = listen(port)
            continue
        server.settimeout(0.2)
        try:
            conn, _ = server.accept()
        except socket.timeout:
            continue
        except OSError:  # closed by a "refuse" rule
            continue
        conn.settimeout(None)
        threading.Thread(target=handle, args=(conn, listener), daemon=True).start()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--upstream-auth-file")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--foreign-port", type=int, default=0)
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args()
    upstream = urlsplit(args.upstream)
    auth = None
    if args.upstream_auth_file:
        with open(args.upstream_auth_file, encoding="utf-8") as handle:
            auth = handle.read().strip()
    if upstream.scheme == "unix":
        state.update(upstream_unix=upstream.path, auth=auth)
    else:
        state.update(upstream_host=upstream.hostname, upstream_port=upstream.port or 80, auth=auth)
    main_ready, foreign_ready = [], []
    threading.Thread(target=serve, args=(args.port, "main", main_ready), daemon=True).start()
    threading.Thread(target=serve, args=(args.foreign_port, "foreign", foreign_ready), daemon=True).start()
    while not (main_ready and foreign_ready):
        time.sleep(0.01)
    state["foreign_port"] = foreign_ready[0]
    print(f"READY {main_ready[0]} {foreign_ready[0]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    parent = os.getppid()
    while True:
        time.sleep(0.5)
        if args.exit_with_parent and os.getppid() != parent:
            os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
