import Foundation

/// Which redirects are followed, and what the follow-up request looks like. Redirects are handled here rather
/// than by CURLOPT_FOLLOWLOCATION so that credentials never leave the origin they were meant for.
struct RedirectPolicy {
    enum Verdict {
        /// This is the final response: hand it to the caller.
        case deliver
        /// Follow it: its body is discarded.
        case follow
        /// It should be followed, but `maxRedirects` are used up.
        case tooManyRedirects
    }

    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]
    /// Headers that authenticate the request: they only go to the origin they were written for.
    static let credentialHeaders = ["Authorization", "X-Amz-Security-Token", "Cookie"]
    /// Headers that describe a body, dropped with the body when a 303 turns the request into a GET.
    static let bodyHeaders = [
        "Content-Type", "Content-Length", "Content-Encoding", "Content-MD5", "Transfer-Encoding",
        "X-Amz-Content-Sha256"
    ]

    let enabled: Bool
    let maxRedirects: Int
    let redirectsFollowed: Int

    func verdict(status: Int, headers: HTTPHeaders, request: HTTPRequest) -> Verdict {
        guard enabled, Self.redirectStatuses.contains(status),
            let location = headers["Location"], !location.isEmpty,
            Self.mayFollow(status: status, request: request)
        else { return .deliver }
        return redirectsFollowed < maxRedirects ? .follow : .tooManyRedirects
    }

    /// 303 always (it becomes a GET); 301/302 only for GET and HEAD, whose meaning survives them; 307/308 for any
    /// method, as long as the body can be sent again.
    static func mayFollow(status: Int, request: HTTPRequest) -> Bool {
        let method = request.method.uppercased()
        switch status {
        case 303: return true
        case 301, 302: return (method == "GET" || method == "HEAD") && request.body.isReplayable
        case 307, 308: return request.body.isReplayable
        default: return false
        }
    }

    /// The request to send to `location` (already absolute) after `status`.
    static func followUp(to location: String, after status: Int, from request: HTTPRequest) throws -> HTTPRequest {
        guard let target = URLOrigin(location), target.scheme == "http" || target.scheme == "https" else {
            throw HTTPError.transport(
                url: URLDisplay.redacted(request.url), code: 1,
                detail: "redirected to \(URLDisplay.redacted(location)), which is not an http(s) URL")
        }
        var next = request
        next.url = location
        if target != URLOrigin(request.url) {
            for name in credentialHeaders { next.headers.remove(name) }
            // Host named the old origin; the socket path only makes sense for the origin it served.
            next.headers.remove("Host")
            next.unixSocketPath = nil
        }
        if status == 303 {
            next.method = request.method.uppercased() == "HEAD" ? "HEAD" : "GET"
            next.body = .empty
            for name in bodyHeaders { next.headers.remove(name) }
        }
        return next
    }

    /// `Location` resolved against the URL that answered (curl's own resolution is preferred by the caller).
    static func resolve(_ location: String, against base: String) -> String? {
        guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else {
            return nil
        }
        return resolved.absoluteString
    }
}
