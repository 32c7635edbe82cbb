import Foundation
import HTTPTransport

#if canImport(Glibc)
import Glibc
#endif

/// A Python script of Fixtures/ that serves on loopback, prints one JSON line when ready, and exits when its
/// stdin closes. `stop()` closes stdin and sends SIGTERM to its pid.
final class FixtureServer: Sendable {
    let pid: Int32
    /// The ready line's fields.
    let ready: [String: String]
    private let stdin: FileHandle

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    private init(pid: Int32, ready: [String: String], stdin: FileHandle) {
        self.pid = pid
        self.ready = ready
        self.stdin = stdin
    }

    static func start(_ script: String, _ arguments: [String] = []) async throws -> FixtureServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", fixtures.appendingPathComponent(script).path] + arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        try? output.fileHandleForWriting.close()
        try? input.fileHandleForReading.close()
        let reader = output.fileHandleForReading
        let line: String = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var buffer = Data()
                while !buffer.contains(UInt8(ascii: "\n")) {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    buffer.append(chunk)
                }
                continuation.resume(returning: String(decoding: buffer, as: UTF8.self))
            }
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            kill(process.processIdentifier, SIGKILL)
            throw FixtureServerError(detail: "\(script) did not start: '\(line)'")
        }
        return FixtureServer(
            pid: process.processIdentifier, ready: object.mapValues { "\($0)" },
            stdin: input.fileHandleForWriting)
    }

    func stop() {
        try? stdin.close()
        kill(pid, SIGTERM)
    }
}

struct FixtureServerError: Error, CustomStringConvertible {
    let detail: String
    var description: String { detail }
}

/// Fixtures/metadata_server.py: a real IMDSv2 and ECS credentials endpoint that checks the IMDSv2 token and the
/// ECS Authorization header, with counters at /_stats.
struct MetadataServer: Sendable {
    let server: FixtureServer
    let url: String

    static func start(_ arguments: [String] = []) async throws -> MetadataServer {
        let server = try await FixtureServer.start("metadata_server.py", arguments)
        guard let port = server.ready["port"] else {
            server.stop()
            throw FixtureServerError(detail: "metadata_server.py printed no port")
        }
        return MetadataServer(server: server, url: "http://127.0.0.1:\(port)")
    }

    /// The server's counters: tokenPuts, imdsCredentialGets, ecsGets, unauthorized, lastTtlHeader.
    func stats() async throws -> [String: Any] {
        let response = try await HTTPClient().send(HTTPRequest(url: url + "/_stats", timeout: 5))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    func count(_ name: String) async throws -> Int { try await stats()[name] as? Int ?? -1 }

    func stop() { server.stop() }
}
