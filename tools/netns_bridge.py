#!/usr/bin/env python3
"""A byte-for-byte TCP bridge into a network namespace, through a unix socket (which every namespace of the
machine can reach, where 127.0.0.1 is each namespace's own): a service on the host's 127.0.0.1:PORT answers
on the namespace's 127.0.0.1:PORT too, under the same name. world.sh uses it for a dockerd in a namespace of its
own (as rootless Docker's is) that pushes to a registry of the loopback world.

  netns_bridge.py out SOCKET PORT   on the host: accept on unix SOCKET, connect each to 127.0.0.1:PORT
  netns_bridge.py in PORT SOCKET    in the namespace: accept on 127.0.0.1:PORT, connect each to unix SOCKET

Runs until SIGTERM/SIGINT.
"""
import os
import signal
import socket
import sys
import threading


def pump(source, destination):
    """Copies until the source ends, then ends the destination's writing half (the other direction goes on)."""
    try:
        while True:
            data = source.recv(1 << 16)
            if not data:
                break
            destination.sendall(data)
    except OSError:
        pass
    finally:
        try:
            destination.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(listener, connect):
    while True:
        client, _ = listener.accept()
        try:
            upstream = connect()
        except OSError:
            client.close()
            continue
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


def main():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if len(sys.argv) == 4 and sys.argv[1] == "out":
        path, port = sys.argv[2], int(sys.argv[3])
        if os.path.exists(path):
            os.unlink(path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        os.chmod(path, 0o600)
        connect = lambda: socket.create_connection(("127.0.0.1", port))  # noqa: E731
    elif len(sys.argv) == 4 and sys.argv[1] == "in":
        port, path = int(sys.argv[2]), sys.argv[3]
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))

        def connect():
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(path)
            return upstream
    else:
        sys.exit(__doc__)
    listener.listen(64)
    serve(listener, connect)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
