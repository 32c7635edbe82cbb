import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A registry on 127.0.0.1 for the Engine to push to, which sends what it gets on to the destination with
/// ecrpush's own clients (`RelayUpstream`). The Engine's push reads its layers cheaply (no export of the whole
/// image) and skips what the relay says the destination holds; the relay answers those checks from what ecrpush
/// knows, sends uploads on (keeping them whole in a file until their digest checks; a big one as it arrives), and makes
/// fewer requests to the destination than the Engine would over a slow link
/// (no version check, no auth challenge, one manifest for every tag). The Engine takes loopback registries as
/// insecure (127.0.0.0/8 by default), so plain HTTP is what it expects here. One relay serves one push.
package final class RegistryRelay: Sendable {
    package let port: Int
    private let channel: any Channel
    private let sessions: RelaySessions

    private init(port: Int, channel: any Channel, sessions: RelaySessions) {
        (self.port, self.channel, self.sessions) = (port, channel, sessions)
    }

    /// Uploads that grow past this many bytes while the Engine still sends go on as they arrive; smaller ones go
    /// whole. Sending on as it arrives costs the destination a round trip more (a `PATCH`, then the `PUT` that names
    /// the digest, where a whole blob goes up in the `PUT`), and gains only the time the Engine still takes to send
    /// the rest: a loopback Engine sends a small layer in milliseconds, but compresses a big one for seconds.
    package static let sendOnArrivalPast: Int64 = 4 << 20

    /// Listens on 127.0.0.1 at a port of the system's choosing (or the one `listenAhead` bound); uploads are written
    /// to `spoolDirectory`.
    package static func start(
        upstream: any RelayUpstream, spoolDirectory: String, sendOnArrivalPast: Int64 = sendOnArrivalPast
    ) async throws -> RegistryRelay {
        let sessions = RelaySessions(directory: spoolDirectory, upstream: upstream, sendOnArrivalPast: sendOnArrivalPast)
        let listener: RelayListener
        if let bound = await ListenerAhead.current.take() {
            listener = bound
        } else {
            listener = try await RelayListener.bind()
        }
        listener.serve(sessions)
        return RegistryRelay(port: listener.port, channel: listener.channel, sessions: sessions)
    }

    /// Binds the next relay's listener now, in the background, while the command still reads its arguments (a
    /// process's first bind pays for NIO's start). Unused, it listens until the process ends and serves nobody.
    package static func listenAhead() { ListenerAhead.current.bind() }

    /// The port of the listener bound ahead, once bound (nil when none was asked for, its bind failed or a relay
    /// took it already).
    package static var portAhead: Int? {
        get async { await ListenerAhead.current.port }
    }

    /// `127.0.0.1:<port>`, the registry part of the names the Engine pushes.
    package var host: String { Self.host(port: port) }

    /// The registry part of the names the Engine pushes to the relay listening on `port`.
    package static func host(port: Int) -> String { "127.0.0.1:\(port)" }
    /// Requests the Engine made: none means it never reached the relay (it runs in another network namespace).
    package var requestCount: Int { sessions.requests }
    /// The destination's first failure, which says more than the Engine's report of the relay's refusal.
    package var upstreamFailure: (any Error)? { sessions.failure }
    /// The digest of the manifest the relay put, once it has.
    package var manifestDigest: String? { sessions.manifestDigest }

    /// Stops listening, ends open connections and work, deletes spooled uploads.
    package func stop() async {
        try? await channel.close()
        for connection in sessions.close() { try? await connection.close() }
        await sessions.upstream.relayStopped()
    }
}
