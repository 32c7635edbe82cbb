/// Failures of the transport itself (an HTTP status is never an error here: callers judge statuses).
package enum HTTPError: Error, Sendable, CustomStringConvertible {
    /// Nothing listens, DNS failed, or the socket path is missing or refused.
    case couldNotConnect(url: String, detail: String)
    case tls(url: String, detail: String)
    case timedOut(url: String, detail: String)
    /// The response body was larger than the caller allowed for a buffered read.
    case responseTooLarge(url: String, limit: Int)
    /// The request body producer or the response sink threw.
    case bodyCallbackFailed(url: String, underlying: any Error)
    case cancelled(url: String)
    /// Any other libcurl failure, with curl's code and message.
    case transport(url: String, code: Int, detail: String)
    case invalidRequest(String)

    package var description: String {
        switch self {
        case .couldNotConnect(let url, let detail):
            return "could not connect to \(url): \(detail). Check that the endpoint is right and that the service is running."
        case .tls(let url, let detail):
            return "TLS failure talking to \(url): \(detail). Certificate verification stays on; check the endpoint's certificate and CA bundle."
        case .timedOut(let url, let detail):
            return "request to \(url) timed out: \(detail)"
        case .responseTooLarge(let url, let limit):
            return "response from \(url) was larger than \(limit) bytes"
        case .bodyCallbackFailed(let url, let underlying):
            return "transfer with \(url) stopped: \(underlying)"
        case .cancelled(let url):
            return "request to \(url) was cancelled"
        case .transport(let url, let code, let detail):
            return "transfer with \(url) failed (curl error \(code)): \(detail)"
        case .invalidRequest(let detail):
            return "invalid HTTP request: \(detail)"
        }
    }
}
