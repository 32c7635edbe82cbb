import BuildKitSession
import DockerEngine
import Foundation

/// Which of the Engine's builders builds the image.
package enum BuilderChoice: String, Sendable, CaseIterable {
    /// BuildKit when the Engine has it (API 1.39+ on Linux, not podman), else classic; `DOCKER_BUILDKIT=0/1` decides
    /// as it does for docker.
    case auto
    case classic
    case buildKit = "buildkit"
}

/// What a BuildKit build adds to the classic one: secrets, registry logins and SSH agents served through a session.
package struct BuildKitSettings: Sendable {
    package var secrets: [BuildSecret]
    /// Registry logins for base images and `--cache-from` images; nil: none (anonymous pulls).
    package var credentials: RegistryCredentialProvider?
    /// Agents for `RUN --mount=type=ssh`, by id.
    package var sshAgents: [SSHAgent]

    package init(secrets: [BuildSecret] = [], credentials: RegistryCredentialProvider? = nil, sshAgents: [SSHAgent] = []) {
        self.secrets = secrets
        self.credentials = credentials
        self.sshAgents = sshAgents
    }
}

/// A BuildKit progress update for display: the plain lines it adds (`#5 [2/3] RUN make`, logs, DONE) and the whole
/// state after it, from which a terminal view is drawn.
package struct BuildKitUpdate: Sendable {
    package var lines: [String]
    package var progress: BuildKitProgress
}

/// Builds an image with the Engine's classic builder or with BuildKit and, for BuildKit, the session that serves
/// secrets and registry logins to the build.
package struct ImageBuilder: Sendable {
    package let docker: DockerClient
    package var environment: [String: String]

    package init(docker: DockerClient, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.docker = docker
        self.environment = environment
    }

    /// Whether this build uses BuildKit.
    package func usesBuildKit(_ choice: BuilderChoice) async throws -> Bool {
        switch choice {
        case .classic: return false
        case .buildKit: return true
        case .auto:
            switch environment["DOCKER_BUILDKIT"]?.lowercased() {
            case "0", "false": return false
            case "1", "true": return true
            default: return try await docker.ping().supportsBuildKit
            }
        }
    }

    /// A build that fails because a step ran a program of another architecture (`exec format error`, in the
    /// classic builder's output or BuildKit's step log) fails with `ECRPushError.needsEmulation`: the Engine's
    /// error and how to get emulation.
    package func build(
        context: BuildContext, options: BuildOptions, builder: BuilderChoice = .auto, buildKit settings: BuildKitSettings = BuildKitSettings(),
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> BuildResult {
        let foreignExecutable = Locked(false)
        do {
            return try await buildWithEngine(context: context, options: options, builder: builder, buildKit: settings) { event in
                if case .build(.output(let text)) = event, text.contains(Self.execFormatError) { foreignExecutable.withValue { $0 = true } }
                onEvent(event)
            }
        } catch {
            guard foreignExecutable.current || "\(error)".contains(Self.execFormatError) else { throw error }
            throw ECRPushError.needsEmulation(platform: options.platform, cause: "\(error)")
        }
    }

    /// What the kernel says (ENOEXEC) when asked to run a program of another architecture it has no handler for.
    static let execFormatError = "exec format error"

    private func buildWithEngine(
        context: BuildContext, options: BuildOptions, builder: BuilderChoice, buildKit settings: BuildKitSettings,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> BuildResult {
        guard try await usesBuildKit(builder) else {
            if !settings.secrets.isEmpty { throw ECRPushError.invalidArgument("--secret needs BuildKit (--builder buildkit)") }
            if !settings.sshAgents.isEmpty { throw ECRPushError.invalidArgument("--ssh needs BuildKit (--builder buildkit)") }
            return try await docker.build(context: context, options: options) { onEvent(.build($0)) }
        }
        var options = options
        options.buildKit = true
        if options.networkMode == nil, try await !docker.networkExists("bridge") {
            // An Engine without its bridge (dockerd --bridge=none) runs the classic builder's and every container's RUN
            // with no network; BuildKit would fail with "network bridge not found" instead. Do as the Engine does.
            options.networkMode = "none"
        }
        for secret in settings.secrets { _ = try secret.value(environment: environment) }
        for agent in settings.sshAgents where !SSHAgent.isSocket(agent.socketPath) {
            throw ECRPushError.invalidArgument("--ssh \(agent.id): \(agent.socketPath) is not an SSH agent's socket")
        }

        let session = try await openSession(settings, onEvent: onEvent)
        options.sessionID = session.id
        let progress = Locked(BuildKitProgress())
        do {
            let result = try await docker.build(context: context, options: options) { event in
                guard case .trace(let payload) = event else {
                    // The Engine's "Successfully tagged" adds nothing to BuildKit's own "naming to …" and would tear a
                    // live view apart.
                    if case .output(let text) = event, text.hasPrefix("Successfully tagged ") { return }
                    onEvent(.build(event))
                    return
                }
                guard let status = try? BuildKitStatus(traceAux: payload) else { return }
                let update = progress.withValue { state in BuildKitUpdate(lines: state.absorb(status), progress: state) }
                onEvent(.buildKit(update))
            }
            await session.close()
            return result
        } catch DockerError.buildFailed(let message) {
            await session.close()
            guard let failure = progress.current.failure else { throw DockerError.buildFailed(message: message) }
            throw ECRPushError.buildStepFailed(step: failure.step, error: failure.error, lastLines: failure.lastLines)
        } catch {
            await session.close()
            throw error
        }
    }

    /// The session for secrets, registry logins and SSH agents, on a connection of its own to the Engine.
    private func openSession(_ settings: BuildKitSettings, onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async throws -> BuildSession {
        let engine: BuildSession.EngineAddress
        switch docker.host.endpoint {
        case .unixSocket(let path): engine = .unixSocket(path: path)
        case .tcp(let host, let port): engine = .tcp(host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port)
        }
        return try await BuildSession.start(
            engine: engine, apiVersion: try await docker.apiVersion(), secrets: settings.secrets, credentials: settings.credentials,
            sshAgents: settings.sshAgents, environment: environment, onEvent: { onEvent(.session($0)) })
    }
}

/// A value shared between the build's transfer thread and the caller's task.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withValue<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withValue { $0 } }
}
