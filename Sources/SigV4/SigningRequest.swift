/// One header of a request to sign. Names keep their original case; duplicates are allowed and are
/// joined with "," in their original order when canonicalised.
package struct SigningHeader: Sendable, Equatable {
    package var name: String
    package var value: String

    package init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The parts of an HTTP request that SigV4 covers, exactly as they will go on the wire.
package struct SigningRequest: Sendable {
    package var method: String
    /// The path as sent on the wire: already percent-encoded, possibly un-normalised (`/a/../b`).
    package var path: String
    /// The raw query string without the leading `?`, as sent on the wire.
    package var query: String?
    /// Must include `Host`.
    package var headers: [SigningHeader]

    package init(method: String, path: String, query: String? = nil, headers: [SigningHeader]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// Splits an absolute `http(s)://host[:port]/path?query` URL (any fragment is dropped) and adds a
    /// `Host` header (with `:port` when it is not the scheme's default) unless one is already present.
    /// Returns nil when the URL has no scheme or host, or carries user info.
    package init?(url: String, method: String, headers: [SigningHeader]) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard !scheme.isEmpty else { return nil }
        var rest = Substring(url[schemeEnd.upperBound...])
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }

        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let pathAndQuery = rest[authorityEnd...]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }

        let (host, port) = Self.splitAuthority(authority)
        guard !host.isEmpty else { return nil }

        var path = String(pathAndQuery)
        var query: String?
        if let mark = path.firstIndex(of: "?") {
            query = String(path[path.index(after: mark)...])
            path = String(path[..<mark])
        }
        if path.isEmpty { path = "/" }

        var allHeaders = headers
        if !headers.contains(where: { $0.name.lowercased() == "host" }) {
            let defaultPort = scheme == "https" ? 443 : (scheme == "http" ? 80 : nil)
            let hostValue = (port == nil || port == defaultPort) ? host : "\(host):\(port!)"
            allHeaders.insert(SigningHeader(name: "Host", value: hostValue), at: 0)
        }
        self.init(method: method, path: path, query: query, headers: allHeaders)
    }

    /// Splits `host`, `host:port`, `[v6]` or `[v6]:port`; the host keeps IPv6 brackets.
    private static func splitAuthority(_ authority: Substring) -> (host: String, port: Int?) {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let host = String(authority[...close])
            let after = authority[authority.index(after: close)...]
            return (host, after.hasPrefix(":") ? Int(after.dropFirst()) : nil)
        }
        if let colon = authority.lastIndex(of: ":") {
            return (String(authority[..<colon]), Int(authority[authority.index(after: colon)...]))
        }
        return (String(authority), nil)
    }
}
