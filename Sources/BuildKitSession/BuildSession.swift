import Foundation
import NIOCore
import NIOPosix

/// A BuildKit session served to the Docker Engine for the length of one build: the Engine asks it for build secrets,
/// registry logins and SSH agent connections. It lives on a connection of its own to the Engine (its unix socket, or
/// a plain-TCP `DOCKER_HOST`), upgraded from HTTP/1.1 to HTTP/2 (`POST /session`, `Upgrade: h2c`); the build then names it (`session=<id>`). Close it when the build ends.
/// NIO's threads start on first use, so commands that never build pay nothing for this.
package final class BuildSession: Sendable {
    /// The session's id, for the build request.
    package let id: String
    private let channel: any Channel

    private init(id: String, channel: any Channel) {
        self.id = id
        self.channel = channel
    }

    /// Where the Engine listens, as the session connects to it.
    package enum EngineAddress: Sendable, Equatable, CustomStringConvertible {
        case unixSocket(path: String)
        case tcp(host: String, port: Int)

        package var description: String {
            switch self {
            case .unixSocket(let path): return "unix://\(path)"
            case .tcp(let host, let port): return "tcp://\(host):\(port)"
            }
        }
    }

    /// Connects to the Engine at `engine`, opens the session and starts serving it.
    package static func start(
        engine: EngineAddress, apiVersion: String, secrets: [BuildSecret] = [], credentials: RegistryCredentialProvider? = nil,
        sshAgents: [SSHAgent] = [], environment: [String: String] = ProcessInfo.processInfo.environment,
        onEvent: @escaping @Sendable (SessionEvent) -> Void = { _ in }
    ) async throws -> BuildSession {
        let id = randomID()
        var byID: [String: BuildSecret] = [:]
        for secret in secrets { byID[secret.id] = secret }
        var services = SessionServices(secrets: byID, credentialProvider: credentials, environment: environment, onEvent: onEvent)
        for agent in sshAgents { services.sshAgents[agent.id] = agent }
        let request = upgradeRequest(id: id, apiVersion: apiVersion, methods: services.methods)

        let group = MultiThreadedEventLoopGroup.singleton
        let upgraded = group.next().makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: group).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let handler = H2CUpgradeHandler(request: request, upgraded: upgraded) { stream in
                    stream.eventLoop.makeCompletedFuture { try stream.pipeline.syncOperations.addHandler(GRPCStreamHandler(services: services)) }
                }
                try channel.pipeline.syncOperations.addHandler(handler)
            }
        }
        let channel: any Channel
        do {
            switch engine {
            case .unixSocket(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            }
        } catch {
            upgraded.fail(error)
            throw BuildKitError.sessionConnection(engine: engine.description, detail: String(describing: error))
        }
        do {
            try await upgraded.futureResult.get()
        } catch let error as BuildKitError {
            channel.close(promise: nil)
            if case .sessionConnection(_, let detail) = error { throw BuildKitError.sessionConnection(engine: engine.description, detail: detail) }
            throw error
        } catch {
            channel.close(promise: nil)
            throw BuildKitError.sessionConnection(engine: engine.description, detail: String(describing: error))
        }
        return BuildSession(id: id, channel: channel)
    }

    /// Ends the session (the Engine forgets it).
    package func close() async {
        try? await channel.close()
    }

    /// The HTTP/1.1 request that turns the connection into the session: the headers name the session and every
    /// gRPC method it serves (moby/buildkit session/session.go's `X-Docker-Expose-Session-*`).
    static func upgradeRequest(id: String, apiVersion: String, methods: [String]) -> [UInt8] {
        var lines = [
            "POST /v\(apiVersion)/session HTTP/1.1", "Host: docker", "User-Agent: ecrpush", "Content-Length: 0",
            "Connection: Upgrade", "Upgrade: h2c", "X-Docker-Expose-Session-Uuid: \(id)", "X-Docker-Expose-Session-Name: ecrpush",
            // The shared key groups sessions whose local files BuildKit may cache together; ecrpush sends none.
            "X-Docker-Expose-Session-Sharedkey: ecrpush-\(id)"
        ]
        lines += methods.map { "X-Docker-Expose-Session-Grpc-Method: \($0)" }
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    /// 25 random lowercase letters and digits, as BuildKit's own session ids.
    static func randomID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<25).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}
