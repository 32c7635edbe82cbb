import Foundation

/// A request with its redirects: one `CurlTransfer` per hop, each on a pooled easy handle. Blocking; runs on
/// the transfer thread.
struct HTTPExchange: Sendable {
    let configuration: HTTPClient.Configuration
    let pool: EasyHandlePool
    let cancellation: CancellationFlag

    func run(_ original: HTTPRequest, sink: ResponseSink) throws -> HTTPResponseHead {
        try CurlGlobal.ensureInitialized()
        try original.validate()
        let clock = ContinuousClock()
        let start = clock.now
        var request = original
        var redirectsFollowed = 0

        while true {
            if cancellation.isCancelled { throw HTTPError.cancelled(url: URLDisplay.redacted(request.url)) }
            // The timeout covers the whole exchange, redirects included.
            var remaining: TimeInterval?
            if let total = original.timeout {
                let elapsed = start.duration(to: clock.now)
                let left = total - elapsed.inSeconds
                guard left > 0 else {
                    throw HTTPError.timedOut(
                        url: URLDisplay.redacted(request.url),
                        detail: "the request's \(total) s timeout ran out after \(redirectsFollowed) redirects")
                }
                remaining = left
            }

            let key = EasyHandlePool.key(for: request)
            guard let handle = pool.checkOut(key: key) else {
                throw HTTPError.transport(
                    url: URLDisplay.redacted(request.url), code: 27,
                    detail: "curl could not create a transfer handle (out of memory)")
            }
            defer { pool.checkIn(handle, key: key) }

            let policy = RedirectPolicy(
                enabled: configuration.followRedirects,
                maxRedirects: max(0, configuration.maxRedirects),
                redirectsFollowed: redirectsFollowed)
            let transfer = CurlTransfer(
                handle: handle, request: request, configuration: configuration, policy: policy,
                cancellation: cancellation, sink: sink, timeout: remaining)
            switch try transfer.perform() {
            case .final(let head):
                return head
            case .redirect(let status, let location):
                request = try RedirectPolicy.followUp(to: location, after: status, from: request)
                redirectsFollowed += 1
            }
        }
    }
}
