import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The relay's listening socket on 127.0.0.1, which can be bound before the relay's work is known
/// (`RegistryRelay.listenAhead`): the first bind of a process pays for NIO's event loops and its first use (8-18 ms
/// of a 0.2 s push, measured), which then happens while the command line is read. Connections are served once
/// the relay has its sessions (`serve`); one that comes before is closed (nobody knows the port yet but this
/// process).
final class RelayListener: Sendable {
    let channel: any Channel
    let port: Int
    private let box: SessionsBox

    private init(channel: any Channel, port: Int, box: SessionsBox) {
        (self.channel, self.port, self.box) = (channel, port, box)
    }

    static func bind() async throws -> RelayListener {
        let box = SessionsBox()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard let sessions = box.current else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RelayRequestHandler(sessions: sessions))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        } catch {
            throw RelayError.cannotListen("\(error)")
        }
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw RelayError.cannotListen("no port was given")
        }
        return RelayListener(channel: channel, port: port, box: box)
    }

    /// From now on, connections are served with `sessions`.
    func serve(_ sessions: RelaySessions) {
        box.sessions.withLock { $0 = sessions }
    }
}

/// The listener's sessions, shared with its child channels' initializer (which runs before `serve` only for a
/// connection nobody should have made).
private final class SessionsBox: Sendable {
    let sessions = Mutex<RelaySessions?>(nil)

    var current: RelaySessions? { sessions.withLock { $0 } }
}

/// The listener bound ahead of the next relay (`RegistryRelay.listenAhead`), which the next `start` takes. The
/// process has one; a test binds its own.
package final class ListenerAhead: Sendable {
    @TaskLocal package static var current = ListenerAhead()

    private let pending = Mutex<Task<RelayListener?, Never>?>(nil)

    package init() {}

    /// Starts binding, unless a listener is bound or being bound already.
    func bind() {
        pending.withLock { pending in
            guard pending == nil else { return }
            pending = Task { try? await RelayListener.bind() }
        }
    }

    /// The listener, once bound; nil when none was asked for or its bind failed. Taken once.
    func take() async -> RelayListener? {
        let task = pending.withLock { pending in
            defer { pending = nil }
            return pending
        }
        return await task?.value
    }

    /// The port of the listener waiting to be taken, once bound.
    package var port: Int? {
        get async { await pending.withLock { $0 }?.value?.port }
    }
}
