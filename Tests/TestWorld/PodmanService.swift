import Foundation

/// podman's Docker-compatible API (`podman system service`) on a unix socket of its own, with storage in its own
/// directory (vfs) and `busybox:local` imported: the Engine API as podman users run it, where builds go to buildah
/// (no BuildKit) and the compat endpoints differ from dockerd's in small ways.
package struct PodmanService: Sendable {
    /// world.sh's directory for this service.
    package let directory: String

    package var socketPath: String { "\(directory)/podman.sock" }
    /// "unix:///tmp/.../podman.sock", for DOCKER_HOST.
    package var host: String { "unix://\(socketPath)" }

    /// A new service of its own (stop it with `stop()`).
    package static func start() async throws -> PodmanService {
        try LiveWorld.require("podman")
        let directory = try makeServiceDirectory(prefix: "twp")
        WorldCleanup.track(directory: directory)
        let result = try await runProcess(Repo.worldScript, ["podman", directory], environment: WorldCleanup.ownerEnvironment)
        guard result.status == 0 else {
            _ = try? await runProcess(Repo.worldScript, ["stop", directory])
            throw WorldError.commandFailed(command: "world.sh podman", status: result.status, output: result.combinedText)
        }
        return PodmanService(directory: directory)
    }

    package func stop() async {
        _ = try? await runProcess(Repo.worldScript, ["stop", directory])
        WorldCleanup.untrack(directory: directory)
    }
}
