import Foundation
import NIOCore
import NIOPosix

/// One `ForwardAgent` stream: a connection a build step made to its agent socket, carried to a new connection to
/// the agent `--ssh` named. gRPC `BytesMessage`s from the Engine are cut into agent requests; one request at a time
/// goes to the agent (the protocol is strictly request then reply) and its reply goes back whole. Requests that
/// would change the agent are answered with SSH_AGENT_FAILURE here and never reach it.
///
/// Everything runs on the HTTP/2 stream's event loop: the agent connection is made on the same loop.
final class AgentForwardStream {
    private let context: ChannelHandlerContext
    private let id: String
    private let agent: SSHAgent?
    private let onEvent: @Sendable (SessionEvent) -> Void

    private var messages = LengthPrefixedReader.grpc()
    private var requests = LengthPrefixedReader.agent()
    private var replies = LengthPrefixedReader.agent()
    private var waiting: [[UInt8]] = []
    private var connection: (any Channel)?
    private var awaitingReply = false
    private var buildClosed = false
    private var finished = false

    init(context: ChannelHandlerContext, id: String, agent: SSHAgent?, onEvent: @escaping @Sendable (SessionEvent) -> Void) {
        self.context = context
        self.id = id
        self.agent = agent
        self.onEvent = onEvent
    }

    func start() {
        GRPCResponse.writeHeaders(context)
        guard let agent else {
            onEvent(.sshAgentMissing(id: id))
            finish(.notFound, "no SSH agent '\(id)' was forwarded (ecrpush --ssh \(id)=SOCKET)")
            return
        }
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        ClientBootstrap(group: context.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AgentConnectionHandler(stream: this)) }
            }
            .connect(unixDomainSocketPath: agent.socketPath)
            .whenComplete { result in
                switch result {
                case .success(let channel): this.value.connected(channel)
                case .failure(let error): this.value.agentFailed("cannot connect to \(agent.socketPath): \(error)")
                }
            }
    }

    // MARK: From the Engine

    func received(_ buffer: ByteBuffer) {
        guard !finished else { return }
        messages.append(buffer.readableBytesView)
        do {
            while let message = try messages.next() {
                let bytes = try Moby_Sshforward_V1_BytesMessage(serializedBytes: message)
                requests.append(bytes.data)
                while let request = try requests.next() { waiting.append(request) }
            }
        } catch {
            finish(.invalidArgument, "the build step's agent request could not be read: \(error)")
            return
        }
        pump()
    }

    /// The build step closed its end: finish once what it asked is answered.
    func engineClosedItsSide() {
        buildClosed = true
        pump()
    }

    /// The stream is gone (the step ended, or the Engine reset it).
    func streamClosed() {
        finished = true
        connection?.close(promise: nil)
        connection = nil
    }

    // MARK: From the agent

    fileprivate func connected(_ channel: any Channel) {
        guard !finished else {
            channel.close(promise: nil)
            return
        }
        connection = channel
        pump()
    }

    fileprivate func agentSent(_ buffer: ByteBuffer) {
        guard !finished else { return }
        replies.append(buffer.readableBytesView)
        do {
            while let reply = try replies.next() {
                send(SSHAgentProtocol.framed(reply))
                awaitingReply = false
            }
        } catch {
            agentFailed("the agent's reply could not be read: \(error)")
            return
        }
        pump()
    }

    fileprivate func agentClosed() {
        guard !finished else { return }
        if awaitingReply || !waiting.isEmpty {
            agentFailed("the agent closed the connection before it answered")
        } else {
            finish(.ok, nil)
        }
    }

    fileprivate func agentFailed(_ reason: String) {
        guard !finished else { return }
        onEvent(.sshAgentFailed(id: id, reason: reason))
        finish(.unavailable, "SSH agent '\(id)': \(reason)")
    }

    // MARK: Between them

    /// Sends the next request to the agent when it is free, and answers refused ones at once.
    private func pump() {
        guard !finished, let connection else { return }
        while !awaitingReply, !waiting.isEmpty {
            let request = waiting.removeFirst()
            if SSHAgentProtocol.isAllowed(request) {
                awaitingReply = true
                connection.writeAndFlush(ByteBuffer(bytes: SSHAgentProtocol.framed(request)), promise: nil)
            } else {
                onEvent(.sshRequestRefused(id: id, messageType: request.first ?? 0))
                send(SSHAgentProtocol.failureReply)
            }
        }
        if buildClosed, !awaitingReply, waiting.isEmpty { finish(.ok, nil) }
    }

    private func send(_ bytes: [UInt8]) {
        var message = Moby_Sshforward_V1_BytesMessage()
        message.data = Data(bytes)
        guard let encoded = try? message.serializedBytes() as [UInt8] else { return }
        GRPCResponse.writeMessage(encoded, to: context)
    }

    /// Ends the stream with its status in the trailers and lets the agent connection go.
    private func finish(_ status: GRPCStatus, _ message: String?) {
        guard !finished else { return }
        finished = true
        GRPCResponse.writeStatus(status, message: message, to: context)
        connection?.close(promise: nil)
        connection = nil
    }
}

/// Reads the agent's side of one forwarded connection.
private final class AgentConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let stream: NIOLoopBound<AgentForwardStream>

    init(stream: NIOLoopBound<AgentForwardStream>) {
        self.stream = stream
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        stream.value.agentSent(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        stream.value.agentClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        stream.value.agentFailed("\(error)")
        context.close(promise: nil)
    }
}
