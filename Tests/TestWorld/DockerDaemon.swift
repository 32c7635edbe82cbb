import Foundation

/// A private dockerd (vfs storage, no bridge network, no iptables) on a unix socket, with the image
/// `busybox:local` (Debian's busybox-static) ready. Containers must run with `--network none`.
package struct DockerDaemon: Sendable {
    /// world.sh's directory for this daemon.
    package let directory: String

    package var socketPath: String { "\(directory)/docker.sock" }
    /// "unix:///tmp/.../docker.sock", for DOCKER_HOST or `docker -H`.
    package var host: String { "unix://\(socketPath)" }
    /// The docker CLI's config directory for this daemon (logins land here, not in ~/.docker).
    package var cliConfigDirectory: String { "\(directory)/cli" }
    package var logPath: String { "\(directory)/dockerd.log" }
    package static let baseImage = "busybox:local"

    /// One daemon per test process, started on first use.
    package static func shared() async throws -> DockerDaemon {
        try LiveWorld.require("dockerd")
        return try await SharedWorld.instance.docker()
    }

    /// A new daemon of its own, with busybox:local (stop it with `stop()`). `bridgingPort`: the daemon runs in a
    /// network namespace of its own (as rootless Docker's does), where 127.0.0.1 is not this machine's loopback
    /// except for that port, bridged to the host's (a registry's).
    package static func start(bridgingPort: Int? = nil) async throws -> DockerDaemon {
        try LiveWorld.require("dockerd")
        let directory = try makeServiceDirectory(prefix: "twd")
        WorldCleanup.track(directory: directory)
        let daemon = ["dockerd", directory] + (bridgingPort.map { ["--netns-bridge", String($0)] } ?? [])
        for step in [daemon, ["base-image", directory]] {
            let result = try await runProcess(Repo.worldScript, step, environment: WorldCleanup.ownerEnvironment)
            guard result.status == 0 else {
                _ = try? await runProcess(Repo.worldScript, ["stop", directory])
                throw WorldError.commandFailed(command: "world.sh \(step[0])", status: result.status, output: result.combinedText)
            }
        }
        return DockerDaemon(directory: directory)
    }

    /// Runs the real docker CLI against this daemon: `docker -H unix://... args`.
    package func docker(_ arguments: [String], stdin: Data? = nil) async throws -> ProcessResult {
        try await runProcess("docker", ["-H", host] + arguments, environment: environment, stdin: stdin)
    }

    /// DOCKER_HOST and DOCKER_CONFIG for other programs (ecrpush, docker-py) using this daemon.
    package var environment: [String: String] {
        ["DOCKER_HOST": host, "DOCKER_CONFIG": cliConfigDirectory]
    }

    package func stop() async {
        _ = try? await runProcess(Repo.worldScript, ["stop", directory])
        WorldCleanup.untrack(directory: directory)
    }
}
