import NIOCore
import NIOHTTP2

/// One gRPC call on one HTTP/2 stream: collects the request (headers, then the length-prefixed message), asks
/// `SessionServices` for the answer off the event loop, and writes the response headers, message and trailers.
/// The one streaming call, `ForwardAgent`, is handed to an `AgentForwardStream` for the stream's life.
final class GRPCStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// A request larger than this is not one of the small messages these services take.
    static let maxRequestLength = 1 << 20

    private let services: SessionServices
    private var path: String?
    private var body: [UInt8] = []
    private var answered = false
    private var agentStream: AgentForwardStream?

    init(services: SessionServices) {
        self.services = services
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if let agentStream {
            forward(frame, to: agentStream)
            return
        }
        switch frame {
        case .headers(let headers):
            if path == nil { path = headers.headers.first(name: ":path") }
            if path == SessionServices.forwardAgent {
                let id = headers.headers.first(name: SessionServices.agentIDHeader).flatMap { $0.isEmpty ? nil : $0 } ?? SSHAgent.defaultID
                let stream = AgentForwardStream(context: context, id: id, agent: services.sshAgents[id], onEvent: services.onEvent)
                agentStream = stream
                stream.start()
                if headers.endStream { stream.engineClosedItsSide() }
                return
            }
            if headers.endStream { respond(context) }
        case .data(let payload):
            if case .byteBuffer(let buffer) = payload.data, body.count + buffer.readableBytes <= Self.maxRequestLength {
                body += buffer.readableBytesView
            }
            if payload.endStream { respond(context) }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        agentStream?.streamClosed()
        context.fireChannelInactive()
    }

    private func forward(_ frame: HTTP2Frame.FramePayload, to stream: AgentForwardStream) {
        switch frame {
        case .data(let payload):
            if case .byteBuffer(let buffer) = payload.data { stream.received(buffer) }
            if payload.endStream { stream.engineClosedItsSide() }
        case .headers(let headers):
            if headers.endStream { stream.engineClosedItsSide() }
        case .rstStream:
            stream.streamClosed()
        default:
            break
        }
    }

    private func respond(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let path = path ?? ""
        let request = GRPCFraming.firstMessage(body) ?? []
        Self.answer(path: path, request: request, services: services, context: NIOLoopBound(context, eventLoop: context.eventLoop))
    }

    /// The services may wait (an ECR login), so they run in a task; the answer is written back on the event loop.
    private static func answer(path: String, request: [UInt8], services: SessionServices, context: NIOLoopBound<ChannelHandlerContext>) {
        Task {
            let outcome = await services.handle(path: path, request: request)
            context.eventLoop.execute { write(outcome, to: context.value) }
        }
    }

    private static func write(_ outcome: GRPCOutcome, to context: ChannelHandlerContext) {
        switch outcome {
        case .message(let message):
            GRPCResponse.writeHeaders(context, flush: false)
            GRPCResponse.writeMessage(message, to: context, flush: false)
            GRPCResponse.writeStatus(.ok, message: nil, to: context)
        case .failure(let status, let message):
            GRPCResponse.writeStatus(status, message: message, to: context, trailersOnly: true)
        }
    }
}
