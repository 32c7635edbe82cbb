import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Forwards 127.0.0.1:`port` to a unix socket, byte for byte both ways: a stand-in for a daemon that listens on TCP
/// (`DOCKER_HOST=tcp://…`), through which HTTP upgrades (a build session) pass as well. Stopped by `stop()` or
/// when the value goes; it also quits after 60 s without a connection.
package final class TCPForwarder: Sendable {
    package let port: Int
    private let pid: pid_t
    private let stopped = Mutex(false)

    private init(port: Int, pid: pid_t) {
        self.port = port
        self.pid = pid
    }

    package static func start(to socketPath: String) async throws -> TCPForwarder {
        let ready = TemporaryDirectory(prefix: "fwd")
        let port = try freePort()
        let python = try resolveExecutable("python3")
        let pid = try BackgroundProcess.spawn([python, "-c", script, socketPath, String(port), ready.path + "/listening"])
        let forwarder = TCPForwarder(port: port, pid: pid)
        for _ in 0..<200 {
            if FileManager.default.fileExists(atPath: ready.path + "/listening") { return forwarder }
            if BackgroundProcess.reapIfEnded(pid) != nil { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw WorldError.launchFailed(program: "TCP forwarder", reason: "it did not listen on 127.0.0.1:\(port)")
    }

    /// SIGKILL: the test runner's children can inherit SIGTERM blocked.
    package func stop() {
        // Once only: a pid already reaped may belong to another process by now.
        guard
            stopped.withLock({ stopped in
                defer { stopped = true }; return !stopped
            })
        else { return }
        if BackgroundProcess.reapIfEnded(pid) == nil {
            kill(pid, SIGKILL)
            _ = BackgroundProcess.waitForExit(pid)
        }
    }

    deinit { stop() }

    /// argv: the unix socket, the port, a file to create once listening.
    static let script = """
        import socket, sys, threading
        server = socket.socket()
        server.bind(("127.0.0.1", int(sys.argv[2])))
        server.listen(16)
        server.settimeout(60)
        open(sys.argv[3], "w").close()
        def pump(source, sink):
            try:
                while True:
                    data = source.recv(65536)
                    if not data:
                        break
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    sink.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        while True:
            try:
                client, _ = server.accept()
            except socket.timeout:
                break
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(sys.argv[1])
            threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        """
}
