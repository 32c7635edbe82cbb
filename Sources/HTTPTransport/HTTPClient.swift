import Foundation

/// HTTP over libcurl. Every blocking transfer runs on a thread of its own, never on Swift's cooperative pool.
/// CONTRACT (implementation pending): the signatures below are what other modules build against.
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: TimeInterval = 10
        /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds is aborted.
        public var lowSpeedLimit: Int = 1
        public var lowSpeedTime: TimeInterval = 120
        public var followRedirects: Bool = true
        public var maxRedirects: Int = 10
        /// Upper bound for `send(_:)`'s buffered body.
        public var maxBufferedResponseBytes: Int = 64 << 20
        /// Extra CA bundle (PEM); verification always stays on.
        public var caBundlePath: String?
        public var userAgent: String = "ecrpush"

        public init() {}
    }

    public let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Sends the request and buffers the response body (up to `maxBufferedResponseBytes`).
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        fatalError("HTTPClient.send is not implemented yet")
    }

    /// Sends the request and streams the response body to `onBody`, called on the transfer's own thread in order.
    /// `onHead` runs once, before the first body byte, with the final (post-redirect) status and headers.
    /// Throwing from either callback aborts the transfer with `HTTPError.bodyCallbackFailed`.
    @discardableResult
    public func send(_ request: HTTPRequest,
                     onHead: @escaping @Sendable (HTTPResponseHead) throws -> Void = { _ in },
                     onBody: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws -> HTTPResponseHead {
        fatalError("HTTPClient.send(streaming) is not implemented yet")
    }
}
