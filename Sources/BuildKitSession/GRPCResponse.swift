import NIOCore
import NIOHPACK
import NIOHTTP2

/// Writing a gRPC response on an HTTP/2 stream: the response headers, length-prefixed messages, and the trailers
/// with the status that end the stream. Unary answers and the `ForwardAgent` stream both write through these.
enum GRPCResponse {
    static let headers: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]

    static func writeHeaders(_ context: ChannelHandlerContext, flush: Bool = true) {
        let frame = NIOAny(HTTP2Frame.FramePayload.headers(.init(headers: headers)))
        if flush { context.writeAndFlush(frame, promise: nil) } else { context.write(frame, promise: nil) }
    }

    static func writeMessage(_ message: [UInt8], to context: ChannelHandlerContext, flush: Bool = true) {
        var buffer = context.channel.allocator.buffer(capacity: message.count + 5)
        buffer.writeBytes(GRPCFraming.frame(message))
        let frame = NIOAny(HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(buffer))))
        if flush { context.writeAndFlush(frame, promise: nil) } else { context.write(frame, promise: nil) }
    }

    /// Ends the stream. `trailersOnly`: no headers were sent, so the status goes in the one HEADERS frame there is.
    static func writeStatus(_ status: GRPCStatus, message: String?, to context: ChannelHandlerContext, trailersOnly: Bool = false) {
        var trailers: HPACKHeaders = trailersOnly ? headers : [:]
        trailers.add(name: "grpc-status", value: String(status.rawValue))
        if let message { trailers.add(name: "grpc-message", value: GRPCFraming.percentEncoded(message)) }
        context.writeAndFlush(NIOAny(HTTP2Frame.FramePayload.headers(.init(headers: trailers, endStream: true))), promise: nil)
    }
}
