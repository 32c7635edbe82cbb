import Foundation

/// What to send as a request body. Bodies other than `.bytes` are streamed: never read whole into memory.
package enum HTTPBody: Sendable {
    case empty
    case bytes([UInt8])
    /// `length` bytes of a file from `offset` (nil: to the end of the file).
    case file(path: String, offset: Int64 = 0, length: Int64? = nil)
    /// A producer called on the transfer's own thread: it fills the buffer and returns how many bytes it wrote,
    /// 0 at the end. It may block (it never runs on Swift's cooperative pool). `length` nil means chunked
    /// transfer encoding (HTTP/1.1) when the server allows it.
    case stream(length: Int64?, producer: @Sendable (UnsafeMutableRawBufferPointer) throws -> Int)
}

package struct HTTPRequest: Sendable {
    package var method: String
    /// An absolute `http://` or `https://` URL. With `unixSocketPath`, the host part is only used for `Host:`.
    package var url: String
    package var headers: HTTPHeaders
    package var body: HTTPBody
    /// Sends the request over this unix domain socket (the Docker Engine's transport).
    package var unixSocketPath: String?
    /// Abort when the whole transfer takes longer (nil: no limit; long pushes and builds need none).
    package var timeout: TimeInterval?
    /// Never through `http_proxy` & co.: for the instance and container metadata endpoints, which the AWS SDKs
    /// reach directly (a proxy cannot reach the link-local address, or must not see the credentials).
    package var bypassesProxy = false

    package init(
        method: String = "GET", url: String, headers: HTTPHeaders = HTTPHeaders(), body: HTTPBody = .empty,
        unixSocketPath: String? = nil, timeout: TimeInterval? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.unixSocketPath = unixSocketPath
        self.timeout = timeout
    }
}

package struct HTTPResponseHead: Sendable {
    package var status: Int
    package var headers: HTTPHeaders
    /// The URL that answered, after redirects.
    package var effectiveURL: String

    package init(status: Int, headers: HTTPHeaders, effectiveURL: String) {
        self.status = status
        self.headers = headers
        self.effectiveURL = effectiveURL
    }
}

package struct HTTPResponse: Sendable {
    package var head: HTTPResponseHead
    package var body: [UInt8]

    package init(head: HTTPResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }

    package var status: Int { head.status }
    package var headers: HTTPHeaders { head.headers }
    package var bodyText: String { String(decoding: body, as: UTF8.self) }
}
