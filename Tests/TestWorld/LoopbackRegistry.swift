import Foundation

/// A real distribution registry (Debian's docker-registry) on 127.0.0.1 with htpasswd basic auth
/// for user `AWS`, the way an ECR token's `AWS:<password>` login is checked.
package struct LoopbackRegistry: Sendable {
    package let host: String
    package let port: Int
    package let username: String
    package let password: String
    /// world.sh's directory for this registry (config, htpasswd, storage, log).
    package let directory: String

    /// "127.0.0.1:PORT", the registry part of an image reference.
    package var hostPort: String { "\(host):\(port)" }
    /// "http://127.0.0.1:PORT"
    package var url: String { "http://\(hostPort)" }

    /// One registry per test process, started on first use.
    package static func shared() async throws -> LoopbackRegistry {
        try LiveWorld.require("the loopback registry")
        return try await SharedWorld.instance.registry()
    }

    /// A new registry of its own (stop it with `stop()`).
    /// `password`: the login it accepts (another registry that takes the same ECR token as the shared one).
    package static func start(username: String = "AWS", password: String? = nil) async throws -> LoopbackRegistry {
        try LiveWorld.require("the loopback registry")
        let directory = try makeServiceDirectory(prefix: "twr")
        WorldCleanup.track(directory: directory)
        let password = password ?? randomHex(bytes: 16)
        var lastFailure: ProcessResult?
        for _ in 0..<3 {  // a free port can be taken by someone else before the registry binds it
            let port = try freePort()
            let result = try await runProcess(
                Repo.worldScript, ["registry", directory, String(port), username, password],
                environment: WorldCleanup.ownerEnvironment)
            if result.status == 0 {
                return LoopbackRegistry(host: "127.0.0.1", port: port, username: username, password: password, directory: directory)
            }
            lastFailure = result
            _ = try? await runProcess(Repo.worldScript, ["stop", directory])
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        throw WorldError.commandFailed(
            command: "world.sh registry", status: lastFailure?.status ?? -1,
            output: lastFailure?.combinedText ?? "")
    }

    package func stop() async {
        _ = try? await runProcess(Repo.worldScript, ["stop", directory])
        WorldCleanup.untrack(directory: directory)
    }
}

func randomHex(bytes: Int) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
}
