import Foundation

/// A private dockerd (vfs storage, no bridge network, no iptables) on a unix socket, with the image
/// `busybox:local` (Debian's busybox-static) ready. Containers must run with `--network none`.
public struct DockerDaemon: Sendable {
    /// world.sh's directory for this daemon.
    public let directory: String

    public var socketPath: String { "\(directory)/docker.sock" }
    /// "unix:///tmp/.../docker.sock", for DOCKER_HOST or `docker -H`.
    public var host: String { "unix://\(socketPath)" }
    /// The docker CLI's config directory for this daemon (logins land here, not in ~/.docker).
    public var cliConfigDirectory: String { "\(directory)/cli" }
    public var logPath: String { "\(directory)/dockerd.log" }
    public static let baseImage = "busybox:local"

    /// One daemon per test process, started on first use.
    public static func shared() async throws -> DockerDaemon {
        try await SharedWorld.instance.docker()
    }

    /// A new daemon of its own, with busybox:local (stop it with `stop()`).
    public static func start() async throws -> DockerDaemon {
        let directory = try makeServiceDirectory(prefix: "twd")
        WorldCleanup.track(directory: directory)
        for step in [["dockerd", directory], ["base-image", directory]] {
            let result = try await runProcess(Repo.worldScript, step, environment: WorldCleanup.ownerEnvironment)
            guard result.status == 0 else {
                _ = try? await runProcess(Repo.worldScript, ["stop", directory])
                throw WorldError.commandFailed(command: "world.sh \(step[0])", status: result.status, output: result.combinedText)
            }
        }
        return DockerDaemon(directory: directory)
    }

    /// Runs the real docker CLI against this daemon: `docker -H unix://... args`.
    public func docker(_ arguments: [String], stdin: Data? = nil) async throws -> ProcessResult {
        try await runProcess("docker", ["-H", host] + arguments, environment: environment, stdin: stdin)
    }

    /// DOCKER_HOST and DOCKER_CONFIG for other programs (ecrpush, docker-py) using this daemon.
    public var environment: [String: String] {
        ["DOCKER_HOST": host, "DOCKER_CONFIG": cliConfigDirectory]
    }

    public func stop() async {
        _ = try? await runProcess(Repo.worldScript, ["stop", directory])
        WorldCleanup.untrack(directory: directory)
    }
}
