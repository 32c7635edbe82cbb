import NIOCore
import NIOHTTP1

/// One connection of the Engine's: each request's head and body taken apart (upload bytes written to their spool
/// as they arrive, a manifest gathered), then answered from `RelaySessions`, at once or when the destination has
/// answered. The Engine sends one request at a time per connection.
final class RelayRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let sessions: RelaySessions
    private var route = RelayRoute.unsupported
    private var repository = ""
    private var keepAlive = true
    private var isHead = false
    private var spool: UploadSpool?
    private var manifest: [UInt8] = []
    private var manifestType = ""
    private var bodyFailure: String?

    init(sessions: RelaySessions) {
        self.sessions = sessions
    }

    func channelActive(context: ChannelHandlerContext) {
        if !sessions.opened(context.channel) { context.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        sessions.closed(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            sessions.noteRequest()
            route = RelayRoute(method: head.method.rawValue, uri: head.uri)
            repository = RelayRoute.repository(in: head.uri) ?? ""
            keepAlive = head.isKeepAlive
            isHead = head.method == .HEAD
            (spool, manifest, bodyFailure) = (nil, [], nil)
            switch route {
            case .uploadChunk(let session), .finishUpload(let session, _): spool = sessions.spool(session)
            case .putManifest: manifestType = head.headers["Content-Type"].first ?? ""
            default: break
            }
        case .body(let buffer):
            guard bodyFailure == nil else { return }
            if let spool {
                do {
                    try buffer.withUnsafeReadableBytes { try spool.append($0) }
                } catch {
                    bodyFailure = "\(error)"
                }
            } else if case .putManifest = route {
                guard manifest.count + buffer.readableBytes <= RelaySessions.manifestLimit else {
                    bodyFailure = "a manifest of more than \(RelaySessions.manifestLimit) bytes"
                    return
                }
                manifest += buffer.readableBytesView
            }
        case .end:
            answer(context: context)
        }
    }

    private func answer(context: ChannelHandlerContext) {
        let (sessions, repository, manifest, manifestType) = (self.sessions, self.repository, self.manifest, self.manifestType)
        if let bodyFailure {
            return write(.error(400, code: "BLOB_UPLOAD_INVALID", message: bodyFailure), context: context)
        }
        switch route {
        case .versionCheck:
            write(RelayReply(status: 200, headers: [("Content-Type", "application/json")], body: Array("{}".utf8)), context: context)
        case .startUpload:
            write(sessions.startUpload(repository: repository), context: context)
        case .uploadChunk(let session):
            guard let spool else { return write(Self.unknownSession(session), context: context) }
            write(sessions.uploadProgress(repository: repository, session: session, spool: spool), context: context)
        case .cancelUpload(let session):
            write(sessions.cancelUpload(session: session), context: context)
        case .finishUpload(let session, let digest):
            guard spool != nil else { return write(Self.unknownSession(session), context: context) }
            // Answered at once: the blob goes on to the destination behind the Engine (`RelaySessions`).
            write(sessions.finishUpload(repository: repository, session: session, digest: digest), context: context)
        case .blobCheck(let digest):
            later(context: context) { await sessions.blobCheck(digest: digest) }
        case .putManifest(let reference):
            later(context: context) {
                await sessions.putManifest(repository: repository, reference: reference, bytes: manifest, mediaType: manifestType)
            }
        case .unsupported:
            write(.error(404, code: "UNSUPPORTED", message: "ecrpush's relay serves an image push only"), context: context)
        }
    }

    /// Answers once `reply` has asked the destination, back on the connection's event loop.
    private func later(context: ChannelHandlerContext, _ reply: @escaping @Sendable () async -> RelayReply) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        sessions.run {
            let answer = await reply()
            eventLoop.execute { bound.value.handler.write(answer, context: bound.value.context) }
        }
    }

    private func write(_ reply: RelayReply, context: ChannelHandlerContext) {
        var headers = HTTPHeaders(reply.headers)
        headers.replaceOrAdd(name: "Content-Length", value: String(reply.contentLength ?? Int64(reply.body.count)))
        headers.replaceOrAdd(name: "Docker-Distribution-API-Version", value: "registry/2.0")
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !reply.body.isEmpty, !isHead {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))), promise: nil)
        }
        let close = !keepAlive
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if close { bound.value.close(promise: nil) }
        }
    }

    private static func unknownSession(_ session: String) -> RelayReply {
        .error(404, code: "BLOB_UPLOAD_UNKNOWN", message: "no upload session \(session)")
    }
}
