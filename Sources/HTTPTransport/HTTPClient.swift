import Foundation

/// HTTP over libcurl. Every blocking transfer runs on a thread of its own, never on Swift's cooperative pool.
///
/// - HTTPS always verifies certificates; `caBundlePath` adds a CA bundle.
/// - Proxies come from the standard environment variables (`http_proxy`, `https_proxy`, `no_proxy`), read by
///   curl; requests over a unix socket are never proxied.
/// - Redirects are followed here (not by curl): `Authorization`, `X-Amz-Security-Token` and `Cookie` are
///   dropped when a redirect leaves the origin (scheme, host, port).
/// - Connections are kept alive and reused for later requests to the same origin.
/// - A cancelled task aborts its transfer, which throws `HTTPError.cancelled`.
package final class HTTPClient: Sendable {
    package struct Configuration: Sendable {
        package var connectTimeout: TimeInterval = 10
        /// A transfer slower than `lowSpeedLimit` bytes/s for `lowSpeedTime` seconds is aborted (`timedOut`);
        /// 0 turns the check off, for endpoints that may rightly stay silent (long polls, build output).
        package var lowSpeedLimit: Int = 1
        package var lowSpeedTime: TimeInterval = 120
        package var followRedirects: Bool = true
        package var maxRedirects: Int = 10
        /// Upper bound for `send(_:)`'s buffered body.
        package var maxBufferedResponseBytes: Int = 64 << 20
        /// Extra CA bundle (PEM); verification always stays on.
        package var caBundlePath: String?
        package var userAgent: String = "ecrpush"

        package init() {}
    }

    package let configuration: Configuration
    private let handles = EasyHandlePool()

    package init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Sends the request and buffers the response body (up to `maxBufferedResponseBytes`).
    package func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let cancellation = CancellationFlag()
        let exchange = HTTPExchange(configuration: configuration, pool: handles, cancellation: cancellation)
        let limit = configuration.maxBufferedResponseBytes
        return try await TransferThread.run(cancellation: cancellation) {
            let body = BufferedBody()
            let sink = ResponseSink(
                bufferLimit: limit,
                onHead: { head in
                    // Reserve once for a declared length, within the limit (the limit itself is enforced per chunk).
                    if let declared = head.headers["Content-Length"].flatMap(Int.init), declared > 0 {
                        body.bytes.reserveCapacity(min(declared, limit))
                    }
                },
                onBody: { chunk in body.bytes.append(contentsOf: chunk) })
            let head = try exchange.run(request, sink: sink)
            return HTTPResponse(head: head, body: body.bytes)
        }
    }

    /// Sends the request and streams the response body to `onBody`, called on the transfer's own thread in order.
    /// `onHead` runs once, before the first body byte, with the final (post-redirect) status and headers.
    /// Throwing from either callback aborts the transfer with `HTTPError.bodyCallbackFailed`.
    @discardableResult
    package func send(
        _ request: HTTPRequest,
        onHead: @escaping @Sendable (HTTPResponseHead) throws -> Void = { _ in },
        onBody: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> HTTPResponseHead {
        let cancellation = CancellationFlag()
        let exchange = HTTPExchange(configuration: configuration, pool: handles, cancellation: cancellation)
        return try await TransferThread.run(cancellation: cancellation) {
            try exchange.run(request, sink: ResponseSink(bufferLimit: nil, onHead: onHead, onBody: onBody))
        }
    }
}

/// The buffered response body, filled on the transfer thread only.
private final class BufferedBody {
    var bytes: [UInt8] = []
}
