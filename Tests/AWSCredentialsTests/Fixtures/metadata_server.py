#!/usr/bin/env python3
"""A loopback stand-in for the EC2 instance metadata service (IMDSv2) and the ECS container credentials
endpoint, for the AWSCredentials tests (stdlib only).

Usage: metadata_server.py [--role NAME] [--no-role] [--token-status N] [--ecs-token TOKEN]
                          [--expires-in SECONDS] [--region REGION]

Listens on 127.0.0.1 (a free port) and prints ONE JSON line on stdout: {"port": N}. Exits when its standard
input closes (a crashed test leaves nothing behind) or on SIGTERM.

IMDSv2, checked like the real one:
  PUT /latest/api/token        needs X-aws-ec2-metadata-token-ttl-seconds (1..21600), else 400;
                               answers --token-status instead of 200 when given (e.g. 401)
  GET /latest/meta-data/...    needs X-aws-ec2-metadata-token with a token handed out above, else 401
    iam/security-credentials/        the role name (404 with --no-role)
    iam/security-credentials/NAME    {"Code": "Success", "AccessKeyId": "ASIAIMDS<n>", ..., "Expiration"}
    placement/region                 --region
ECS:
  GET /ecs/credentials         needs Authorization == --ecs-token (when given), else 401 with
                               {"code": "AccessDenied", "message": ...};
                               {"AccessKeyId": "ASIAECS<n>", "SecretAccessKey", "Token", "Expiration"}
Stats:
  GET /_stats                  {"tokenPuts", "imdsCredentialGets", "ecsGets", "unauthorized", "lastTtlHeader"}
Credentials expire --expires-in seconds after they are handed out (default 3600), n counts up from 1.
"""
import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = None
lock = threading.Lock()
tokens = set()
stats = {"tokenPuts": 0, "imdsCredentialGets": 0, "ecsGets": 0, "unauthorized": 0, "lastTtlHeader": None}
serial = [0]

CREDENTIALS_PREFIX = "/latest/meta-data/iam/security-credentials/"


def iso(seconds_from_now):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds_from_now))


def next_serial():
    with lock:
        serial[0] += 1
        return serial[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        sys.stderr.write("metadata_server: " + (fmt % a) + "\n")

    def send(self, status, body, content_type="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, status, obj):
        self.send(status, json.dumps(obj), "application/json")

    def unauthorized(self, body="", content_type="text/plain"):
        with lock:
            stats["unauthorized"] += 1
        self.send(401, body, content_type)

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path != "/latest/api/token":
            return self.send(404, "not found")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        with lock:
            stats["lastTtlHeader"] = ttl
            stats["tokenPuts"] += 1
        if ttl is None or not ttl.isdigit() or not (1 <= int(ttl) <= 21600):
            return self.send(400, "missing or invalid X-aws-ec2-metadata-token-ttl-seconds")
        if args.token_status != 200:
            return self.unauthorized() if args.token_status == 401 else self.send(args.token_status, "")
        token = "imds-token-%d" % next_serial()
        with lock:
            tokens.add(token)
        self.send(200, token)

    def do_GET(self):
        if self.path == "/_stats":
            with lock:
                return self.send_json(200, dict(stats))
        if self.path.startswith("/latest/meta-data/"):
            return self.imds_get()
        if self.path.startswith("/ecs/credentials"):
            return self.ecs_get()
        self.send(404, "not found")

    def imds_get(self):
        token = self.headers.get("X-aws-ec2-metadata-token")
        with lock:
            known = token in tokens
        if not known:
            return self.unauthorized()
        if self.path == "/latest/meta-data/placement/region":
            return self.send(200, args.region)
        if self.path == CREDENTIALS_PREFIX:
            return self.send(404, "") if args.no_role else self.send(200, args.role + "\n")
        if self.path.startswith(CREDENTIALS_PREFIX) and not args.no_role:
            name = self.path[len(CREDENTIALS_PREFIX):]
            if name != args.role:
                return self.send(404, "")
            with lock:
                stats["imdsCredentialGets"] += 1
            n = next_serial()
            return self.send_json(200, {
                "Code": "Success", "LastUpdated": iso(0), "Type": "AWS-HMAC",
                "AccessKeyId": "ASIAIMDS%d" % n, "SecretAccessKey": "imds-secret-%d" % n,
                "Token": "imds-session-%d" % n, "Expiration": iso(args.expires_in)})
        self.send(404, "")

    def ecs_get(self):
        if args.ecs_token is not None and self.headers.get("Authorization") != args.ecs_token:
            return self.unauthorized(json.dumps({"code": "AccessDenied", "message": "Authorization token is not valid"}),
                                     "application/json")
        with lock:
            stats["ecsGets"] += 1
        n = next_serial()
        self.send_json(200, {"AccessKeyId": "ASIAECS%d" % n, "SecretAccessKey": "ecs-secret-%d" % n,
                             "Token": "ecs-session-%d" % n, "Expiration": iso(args.expires_in),
                             "RoleArn": "arn:aws:iam::123456789012:role/task"})


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--role", default="ecr-instance-role")
    p.add_argument("--no-role", action="store_true")
    p.add_argument("--token-status", type=int, default=200)
    p.add_argument("--ecs-token")
    p.add_argument("--expires-in", type=int, default=3600)
    p.add_argument("--region", default="eu-west-3")
    args = p.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdout.write(json.dumps({"port": server.server_address[1]}) + "\n")
    sys.stdout.flush()
    # Serve until the parent closes our stdin (or kills us).
    while sys.stdin.buffer.read(4096):
        pass


if __name__ == "__main__":
    main()
