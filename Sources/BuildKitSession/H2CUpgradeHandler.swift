import NIOCore
import NIOHTTP2

/// Opens the session on a fresh connection to the Engine: sends `POST /session` asking to upgrade to h2c, reads
/// the HTTP/1.1 answer itself, and on `101 Switching Protocols` puts an HTTP/2 server in its place (the Engine is
/// the gRPC client on this connection, ecrpush the server). Bytes that came right behind the answer (the
/// Engine's connection preface) are handed to the HTTP/2 handler, never lost.
final class H2CUpgradeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// An answer's head larger than this is not the Engine's.
    static let maxHeadLength = 64 << 10

    private let request: [UInt8]
    private let upgraded: EventLoopPromise<Void>
    private let streamInitializer: NIOChannelInitializer
    private var received: ByteBuffer?
    private var done = false

    init(request: [UInt8], upgraded: EventLoopPromise<Void>, streamInitializer: @escaping NIOChannelInitializer) {
        self.request = request
        self.upgraded = upgraded
        self.streamInitializer = streamInitializer
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: request.count)
        buffer.writeBytes(request)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else {
            context.fireChannelRead(data)
            return
        }
        var chunk = unwrapInboundIn(data)
        if received == nil { received = chunk } else { received!.writeBuffer(&chunk) }
        let bytes = received!.readableBytesView
        guard let end = Self.headEnd(bytes) else {
            if bytes.count > Self.maxHeadLength {
                fail(context, BuildKitError.sessionConnection(engine: "", detail: "the answer's head is too long"))
            }
            return
        }
        let head = String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
        let status = Self.status(of: head)
        guard status == 101 else {
            let body = String(decoding: bytes[end...], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            fail(
                context,
                BuildKitError.sessionRefused(
                    status: status ?? 0, detail: body.isEmpty ? (head.split(separator: "\r\n").first.map(String.init) ?? "") : body))
            return
        }
        done = true
        var rest = received!
        rest.moveReaderIndex(forwardBy: end + 4 - bytes.startIndex)
        received = nil
        do {
            _ = try context.pipeline.syncOperations.configureHTTP2Pipeline(
                mode: .server, connectionConfiguration: .init(), streamConfiguration: .init(),
                inboundStreamInitializer: streamInitializer)
        } catch {
            fail(context, error)
            return
        }
        if rest.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(rest)) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        upgraded.succeed(())
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done { fail(context, BuildKitError.sessionConnection(engine: "", detail: "the Engine closed the connection before the upgrade")) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done { fail(context, error) } else { context.fireErrorCaught(error) }
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        guard !done else { return }
        done = true
        upgraded.fail(error)
        context.close(promise: nil)
    }

    /// The index of the `\r\n\r\n` that ends the head.
    static func headEnd(_ bytes: ByteBufferView) -> ByteBufferView.Index? {
        guard bytes.count >= 4 else { return nil }
        var index = bytes.startIndex
        while index + 3 < bytes.endIndex {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }

    /// The status code of `HTTP/1.1 101 Switching Protocols`.
    static func status(of head: String) -> Int? {
        let words = head.split(separator: "\r\n").first?.split(separator: " ") ?? []
        guard words.count >= 2, words[0].hasPrefix("HTTP/") else { return nil }
        return Int(words[1])
    }
}
