import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// tools/faultproxy.py in front of a loopback registry: pushes go through it (`--registry 127.0.0.1:PORT`) and
/// it breaks what its rules say (statuses, resets, stalls, refused connections, an upload Location on another
/// origin). See the script's header for the rule format.
package final class FaultProxy: Sendable {
    package let port: Int
    /// A second origin forwarding to the same registry, where a rule can send upload Locations.
    package let foreignPort: Int
    private let pid: pid_t
    private let directory: String
    private let stdoutHandle: FileHandle

    package var hostPort: String { "127.0.0.1:\(port)" }

    /// One request the proxy saw.
    package struct Seen: Decodable, Sendable {
        package var method: String
        package var path: String
        /// "main" or "foreign".
        package var listener: String
        package var authorization: Bool
        /// The user name of a Basic Authorization header, if the request carried one.
        package var username: String?
        /// The request body was sent with chunked transfer encoding (no Content-Length).
        package var chunked: Bool?
        /// The request body's Content-Length (nil when chunked).
        package var length: Int?
        /// The status sent, or "reset", "stall", "refused".
        package var status: Status?
        /// The client's port: requests with the same one came over one connection.
        package var connection: Int?
        /// The `X-Amz-Target` header: which action of an AWS JSON API (ECR's) the request calls.
        package var target: String?

        /// A request that carries a blob's bytes: a PATCH (the Engine's uploads, ecrpush's of a layer still being
        /// compressed), or a PUT that finishes an upload with the whole blob (ecrpush's of a blob of known size).
        package var sendsBlob: Bool {
            method == "PATCH" || (method == "PUT" && path.contains("/blobs/uploads/") && (length ?? 0) > 0)
        }

        package enum Status: Decodable, Sendable, Equatable {
            case code(Int)
            case fault(String)
            package init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let code = try? container.decode(Int.self) { self = .code(code) } else { self = .fault(try container.decode(String.self)) }
            }
        }
    }

    private init(port: Int, foreignPort: Int, pid: pid_t, directory: String, stdoutHandle: FileHandle) {
        (self.port, self.foreignPort, self.pid, self.directory, self.stdoutHandle) = (port, foreignPort, pid, directory, stdoutHandle)
    }

    /// A proxy for `registry`. The foreign origin adds the registry's login itself when `foreignAddsLogin` (as
    /// a presigned storage URL would carry its own authorization).
    package static func start(for registry: LoopbackRegistry, foreignAddsLogin: Bool = true) async throws -> FaultProxy {
        try await start(upstream: registry.url, login: foreignAddsLogin ? "\(registry.username):\(registry.password)" : nil)
    }

    /// A proxy for the Engine `docker` (DOCKER_HOST=tcp://`hostPort`), whose answers its rules can break.
    package static func start(for docker: DockerDaemon) async throws -> FaultProxy {
        try await start(upstream: "unix://\(docker.socketPath)", login: nil)
    }

    /// A proxy for moto's AWS endpoint (given to one service as `AWS_ENDPOINT_URL_<SERVICE>`).
    package static func start(for moto: MotoWorld) async throws -> FaultProxy {
        try await start(upstream: moto.endpoint.absoluteString, login: nil)
    }

    private static func start(upstream: String, login: String?) async throws -> FaultProxy {
        try LiveWorld.require("the fault-injecting proxy")
        let directory = try makeServiceDirectory(prefix: "twf")
        let logPath = "\(directory)/faultproxy.log"
        var arguments = [try resolveExecutable("python3"), Repo.faultProxyScript, "--upstream", upstream, "--exit-with-parent"]
        if let login {
            // In a 0600 file, not in argv: a password never shows in the process list.
            let authFile = "\(directory)/upstream-auth"
            guard FileManager.default.createFile(atPath: authFile, contents: Data(login.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw WorldError.commandFailed(command: "writing \(authFile)", status: -1, output: "")
            }
            arguments += ["--upstream-auth-file", authFile]
        }
        let (pid, output) = try ServiceProcess.spawn(arguments, name: "faultproxy.py", logPath: logPath)
        guard let line = await firstLine(of: output, timeout: .seconds(30)) else {
            kill(pid, SIGKILL)
            throw WorldError.notReady(service: "faultproxy.py", seconds: 30, log: tail(of: logPath))
        }
        let words = line.split(separator: " ")
        guard words.count == 3, words[0] == "READY", let port = Int(words[1]), let foreign = Int(words[2]) else {
            kill(pid, SIGKILL)
            throw WorldError.unexpectedOutput(service: "faultproxy.py", output: line + "\n" + tail(of: logPath))
        }
        return FaultProxy(port: port, foreignPort: foreign, pid: pid, directory: directory, stdoutHandle: output)
    }

    /// Replaces the rules (a JSON array, see tools/faultproxy.py).
    package func setRules(_ rules: [[String: any Sendable]]) async throws {
        _ = try await control("POST", "/_fault/rules", body: try JSONSerialization.data(withJSONObject: rules))
    }

    /// Every request seen since the start (or the last `reset`).
    package func seen() async throws -> [Seen] {
        try JSONDecoder().decode([Seen].self, from: try await control("GET", "/_fault/log", body: nil))
    }

    package func reset() async throws { _ = try await control("POST", "/_fault/reset", body: Data()) }

    package func stop() {
        kill(pid, SIGTERM)
        WorldCleanup.untrack(pid: pid)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func control(_ method: String, _ path: String, body: Data?) async throws -> Data {
        var request = URLRequest(url: URL(string: "http://\(hostPort)\(path)")!)
        request.httpMethod = method
        request.httpBody = body
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw WorldError.commandFailed(command: "\(method) \(path) on faultproxy.py", status: 1, output: String(decoding: data, as: UTF8.self))
        }
        return data
    }
}
