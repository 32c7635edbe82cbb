import Foundation
import TestWorld

/// A small distribution-API server on loopback (python, stdlib only) whose answers vary by repository name,
/// for the cases a real registry does not produce on demand: relative and absolute upload Locations with a
/// query, 202 where 201 is usual, a failing upload, a forgotten session, blobs served whole whatever the Range, error bodies, and a
/// redirect to another port. It logs every
/// request (`GET /log` on either port) with whether it carried Authorization.
final class FakeRegistry: @unchecked Sendable {
    let port: Int
    let otherPort: Int
    private let process: Process
    private let stdinPipe: Pipe

    var url: String { "http://127.0.0.1:\(port)" }

    struct LoggedRequest: Decodable {
        var method: String
        var path: String
        var query: String
        var authorization: String?
        var port: Int
        var bodyLength: Int
    }

    static let script = #"""
        import hashlib, json, sys, threading, uuid
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlsplit, parse_qs

        log, blobs, uploads, failed, gone = [], {}, {}, set(), set()
        lock = threading.Lock()
        ports = {}

        def err(code, message):
            return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def reply(self, status, headers=None, body=b""):
                self.send_response(status)
                for k, v in (headers or {}).items(): self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD": self.wfile.write(body)
            def body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        chunk = self.rfile.read(size + 2)[:size]
                        if size == 0: return data
                        data += chunk
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""
            def handle_any(self):
                u = urlsplit(self.path)
                data = self.body()
                me = self.server.server_address[1]
                with lock:
                    log.append({"method": self.command, "path": u.path, "query": u.query, "port": me,
                                "authorization": self.headers.get("Authorization"), "bodyLength": len(data)})
                if u.path == "/log": return self.reply(200, {"Content-Type": "application/json"}, json.dumps(log).encode())
                if me == ports["other"]:
                    return self.reply(200, {"Docker-Content-Digest": "sha256:" + "0" * 64})
                parts = u.path.split("/")  # ['', 'v2', repo, kind, ...]
                repo = parts[2] if len(parts) > 2 else ""
                if repo == "denied": return self.reply(403, {"Content-Type": "application/json"}, err("DENIED", "User is not authorized"))
                if repo == "missing": return self.reply(404, {"Content-Type": "application/json"}, err("NAME_UNKNOWN", "repository not found"))
                if parts[3] == "blobs" and parts[4] != "uploads":
                    if repo == "redirected":
                        return self.reply(307, {"Location": f"http://127.0.0.1:{ports['other']}{u.path}"})
                    # The whole blob whatever the Range (as a registry that ignores it).
                    stored = blobs.get((repo, parts[4]))
                    return self.reply(404) if stored is None else self.reply(200, {}, stored)
                if parts[3] == "blobs" and self.command == "POST":
                    uid = uuid.uuid4().hex
                    uploads[uid] = b""
                    # "gone-sessions" forgets its first session (as a registry purges an old one).
                    if repo == "gone-sessions" and not gone: gone.add(uid)
                    path = f"/v2/{repo}/blobs/uploads/{uid}"
                    location = f"http://127.0.0.1:{me}{path}" if repo == "absolute" else f"{path}?_state=s-{uid}"
                    return self.reply(202, {"Location": location, "Docker-Upload-UUID": uid})
                if parts[3] == "blobs" and self.command in ("PATCH", "PUT") and (self.command == "PATCH" or data):
                    # A blob's bytes (a PATCH, or a monolithic PUT): "flaky" fails the first session that sends them.
                    uid = parts[5]
                    if uid in failed: return self.reply(400, {}, err("BLOB_UPLOAD_INVALID", "resent on a failed session"))
                    if uid in gone: return self.reply(404, {"Content-Type": "application/json"}, err("BLOB_UPLOAD_UNKNOWN", "blob upload unknown"))
                    if repo == "flaky" and not failed:
                        failed.add(uid)
                        return self.reply(500, {"Content-Type": "application/json"}, err("UNKNOWN", "disk hiccup"))
                if parts[3] == "blobs" and self.command == "PATCH":
                    uid = parts[5]
                    uploads[uid] += data
                    return self.reply(202, {"Location": f"/v2/{repo}/blobs/uploads/{uid}?_state=p-{uid}", "Range": f"0-{len(uploads[uid]) - 1}"})
                if parts[3] == "blobs" and self.command == "PUT":
                    uid = parts[5]
                    q = parse_qs(u.query)
                    digest = q.get("digest", [""])[0]
                    if "sha256:" + hashlib.sha256(uploads.get(uid, b"") + data).hexdigest() != digest:
                        return self.reply(400, {}, err("DIGEST_INVALID", "digest does not match"))
                    blobs[(repo, digest)] = uploads.get(uid, b"") + data
                    return self.reply(202 if repo == "ecrlike" else 201, {"Docker-Content-Digest": digest})
                if parts[3] == "manifests" and self.command == "PUT":
                    if repo == "immutable":
                        return self.reply(400, {}, err("TAG_INVALID", "The image tag 'v1' already exists and cannot be overwritten because the "
                            + "repository is immutable."))
                    return self.reply(201, {"Docker-Content-Digest": "sha256:" + hashlib.sha256(data).hexdigest()})
                return self.reply(404)
            do_GET = do_HEAD = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

        main = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        other = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ports["main"], ports["other"] = main.server_address[1], other.server_address[1]
        for s in (main, other): threading.Thread(target=s.serve_forever, daemon=True).start()
        print(json.dumps(ports), flush=True)
        sys.stdin.read()
        """#

    init() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        let line = try Self.readLine(output.fileHandleForReading)
        guard let ports = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Int],
            let main = ports["main"], let other = ports["other"]
        else {
            process.terminate()
            throw FakeRegistryError.startFailed(line)
        }
        self.process = process
        self.stdinPipe = input
        port = main
        otherPort = other
    }

    private static func readLine(_ handle: FileHandle) throws -> String {
        var bytes: [UInt8] = []
        while true {
            guard let data = try handle.read(upToCount: 1), let byte = data.first else { break }
            if byte == UInt8(ascii: "\n") { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func requests() async throws -> [LoggedRequest] {
        let (data, _) = try await runCurl("\(url)/log")
        return try JSONDecoder().decode([LoggedRequest].self, from: data).filter { $0.path != "/log" }
    }

    private func runCurl(_ url: String) async throws -> (Data, Int32) {
        let result = try await runProcess("curl", ["-s", url])
        return (result.stdout, result.status)
    }

    func stop() {
        try? stdinPipe.fileHandleForWriting.close()  // the server exits when its stdin closes
        process.terminate()
        process.waitUntilExit()  // gone, its port closed, when this returns
    }

    enum FakeRegistryError: Error { case startFailed(String) }
}
