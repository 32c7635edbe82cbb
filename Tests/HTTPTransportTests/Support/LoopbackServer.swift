import Foundation
import HTTPTransport
import TestWorld

/// tools/http_test_server.py, started for one test and stopped (by pid) at its end. It listens on two loopback
/// ports, and optionally on a unix socket and an HTTPS port; see the script for its endpoints.
///
/// Spawned with posix_spawn and reaped with waitpid rather than through Foundation's `Process`, whose child
/// reaping on Linux was seen to miss children that exit at the same moment (leaving `isRunning` true forever).
final class LoopbackServer: @unchecked Sendable {
    struct Info: Decodable {
        let port: Int
        let port2: Int
        let unix: String?
        let tlsPort: Int?
        let caPath: String?
        /// Connecting to this port hangs (its accept queue is full).
        let blackholePort: Int
    }

    let info: Info
    let pid: pid_t
    /// Our end of the server's stdin: the server exits when it closes, so even a crashed test run leaves nothing.
    private let stdinWriter: Int32

    static let scriptPath: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // HTTPTransportTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("tools/http_test_server.py").path

    /// Starts the server; waiting for its "listening" line happens on a thread of its own, off the test's executor.
    static func start(unixSocket: Bool = false, tls: Bool = false) async throws -> LoopbackServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try LoopbackServer(unixSocket: unixSocket, tls: tls) })
            }.start()
        }
    }

    private init(unixSocket: Bool, tls: Bool) throws {
        var arguments = ["/usr/bin/python3", Self.scriptPath]
        if unixSocket {
            arguments += ["--unix", "/tmp/ecrpush-http-test-\(UUID().uuidString.prefix(8)).sock"]
        }
        if tls { arguments.append("--tls") }

        // Socket pairs, close-on-exec from the start (pipe2 is not visible from Swift), so concurrently spawned
        // children never inherit these ends.
        var stdinPipe: [Int32] = [-1, -1]
        var stdoutPipe: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, type, 0, &stdinPipe) == 0, socketpair(AF_UNIX, type, 0, &stdoutPipe) == 0 else {
            throw ServerFailure(description: "socketpair failed: \(String(cString: strerror(errno)))")
        }
        let spawned: pid_t
        do {
            spawned = try BackgroundProcess.spawn(arguments, stdin: stdinPipe[0], stdout: stdoutPipe[1])
        } catch {
            [stdinPipe[0], stdinPipe[1], stdoutPipe[0], stdoutPipe[1]].forEach { close($0) }
            throw error
        }
        close(stdinPipe[0])
        close(stdoutPipe[1])
        pid = spawned
        stdinWriter = stdinPipe[1]

        defer { close(stdoutPipe[0]) }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while byte != UInt8(ascii: "\n") {
            let count = read(stdoutPipe[0], &byte, 1)
            if count < 0 && errno == EINTR { continue }
            guard count == 1 else {
                Self.stop(pid: spawned, stdinWriter: stdinPipe[1], socket: nil)
                throw ServerFailure(description: "the test server exited before listening")
            }
            line.append(byte)
        }
        do {
            info = try JSONDecoder().decode(Info.self, from: Data(line))
        } catch {
            Self.stop(pid: spawned, stdinWriter: stdinPipe[1], socket: nil)
            throw error
        }
    }

    /// SIGTERM to the server's pid, then reaped on a thread of its own (SIGKILL if it lingers), so stopping never
    /// blocks the test's executor.
    func stop() {
        let certificateDirectory = info.caPath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
        Self.stop(pid: pid, stdinWriter: stdinWriter, socket: info.unix, certificateDirectory: certificateDirectory)
    }

    private static func stop(pid: pid_t, stdinWriter: Int32, socket: String?, certificateDirectory: String? = nil) {
        kill(pid, SIGTERM)
        close(stdinWriter)
        // Removed now rather than after reaping: the test is done with them, and the test process may exit first.
        if let socket { unlink(socket) }
        if let certificateDirectory { try? FileManager.default.removeItem(atPath: certificateDirectory) }
        Thread {
            var status: Int32 = 0
            var polls = 0
            while true {
                let reaped = waitpid(pid, &status, WNOHANG)
                // ECHILD: someone else's SIGCHLD handling reaped it already.
                if reaped == pid || (reaped < 0 && errno != EINTR) { break }
                if polls == 300 { kill(pid, SIGKILL) }
                usleep(10_000)
                polls += 1
            }
        }.start()
    }

    /// On the primary port, as 127.0.0.1.
    func url(_ path: String) -> String { "http://127.0.0.1:\(info.port)\(path)" }
    /// On the secondary port, named "localhost": another origin than `url(_:)`.
    func otherHostURL(_ path: String) -> String { "http://localhost:\(info.port2)\(path)" }
    /// On the secondary port, as 127.0.0.1: same host, other port.
    func otherPortURL(_ path: String) -> String { "http://127.0.0.1:\(info.port2)\(path)" }
    func tlsURL(_ path: String) -> String { "https://localhost:\(info.tlsPort ?? 0)\(path)" }

    struct ServerFailure: Error, CustomStringConvertible {
        let description: String
    }
}

/// What /echo reports about the request it received.
struct Echo: Decodable {
    let method: String
    /// The request line's target: absolute ("http://host/path") when the request came through a proxy.
    let target: String
    let path: String
    let query: String
    let headers: [String: String]
    let headerCounts: [String: Int]
    let bodyLength: Int
    let bodySHA256: String
    let chunked: Bool
    let clientPort: Int
    let server: String

    init(bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(Echo.self, from: Data(bytes))
    }
}

extension HTTPResponse {
    func echo() throws -> Echo { try Echo(bytes: body) }
}

/// Something a test throws from a callback, to see it come back as the underlying error.
struct TestCallbackError: Error, Equatable {
    let reason: String
}

/// Mutable state shared between a test and the callbacks it hands the client (called on the transfer thread).
final class Box<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func mutate<Result>(_ change: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try change(&stored)
    }
}
