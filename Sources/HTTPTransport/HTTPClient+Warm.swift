import Foundation

extension HTTPClient {
    /// Loads libcurl now, on a thread of its own, for a command certain to make requests: its first request then
    /// finds libcurl loaded instead of waiting for the dynamic loader (some thirty libraries) on the critical path.
    /// Commands that may answer without a request (a credential helper `get` from the token cache) do not call it.
    package static func loadInBackground() {
        Thread.detachNewThread { _ = try? CurlGlobal.ensureInitialized() }
    }

    /// Loads libcurl now, on the calling thread, when the command's first request is its critical path and nothing
    /// else needs the CPU meanwhile.
    package static func loadNow() {
        _ = try? CurlGlobal.ensureInitialized()
    }
}

extension HTTPClient {
    /// Opens `count` connections to `url`'s origin now, ahead of the requests that will take them: each a `GET` of
    /// `url` without credentials, whose answer is dropped (kept-alive, its connection then waits in the pool).
    /// The record returned says when the first answer came, whatever its status; a failure says nothing (the request
    /// that needs the origin meets it later).
    @discardableResult
    package func openConnections(to url: String, count: Int) -> ConnectionsAhead {
        let record = ConnectionsAhead()
        for _ in 0..<count {
            Task {
                var request = HTTPRequest(method: "GET", url: url)
                request.timeout = 10
                if (try? await send(request)) != nil { record.answered() }
            }
        }
        return record
    }
}
