#!/usr/bin/env python3
"""moto's server on a free 127.0.0.1 port WITHOUT authentication, for the one STS call AWS accepts unsigned:
AssumeRoleWithWebIdentity (motoworld.py refuses every unsigned request, as it should for everything else).
moto accepts any JWT-shaped web identity token.

Prints ONE JSON line on stdout: {"endpoint": "http://127.0.0.1:PORT"}. Exits when its standard input closes
or on SIGTERM. Logs go to stderr.
"""
import json
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server


def main():
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdout.write(json.dumps({"endpoint": "http://127.0.0.1:%d" % server.port}) + "\n")
    sys.stdout.flush()
    while sys.stdin.buffer.read(4096):
        pass


if __name__ == "__main__":
    main()
