import HTTPTransport

extension RegistryClient {
    /// Opens `count` connections to the registry now, while the login is still being made: each a `GET /v2/`
    /// without credentials (the version check, which a registry answers with 401 or 200 and keeps the connection
    /// for), whose answer is dropped. The push's first requests, made side by side once the login is there (the
    /// base's checks, the config's, the first upload session), then find a connection open each instead of paying
    /// for its TCP (and TLS) handshakes on the push's critical path. No credentials go with these requests; a
    /// registry that cannot be reached says so later, to the request that needs it. The first answer's time tells
    /// how far the registry is (`ConnectionsAhead.answered(within:)`).
    @discardableResult
    package func openConnections(_ count: Int) -> ConnectionsAhead {
        http.openConnections(to: "\(baseURL)/v2/", count: count)
    }
}
