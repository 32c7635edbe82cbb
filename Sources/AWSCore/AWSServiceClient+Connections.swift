import HTTPTransport

extension AWSServiceClient {
    /// Opens `count` connections to the service's endpoint now, while something else this call needs first is
    /// still on its way (the role's credentials, from another endpoint): each an unsigned `GET /`, which the service
    /// refuses (and keeps the connection for), the answer dropped. The calls made once the credentials are there
    /// then find a connection open each instead of paying for its TCP and TLS handshakes: two or three round trips
    /// on a CI runner far from the region. Nothing secret goes with these requests; an endpoint that cannot be
    /// reached says so later, to the call that needs it. The record says when the first answer came: how far the
    /// endpoint is.
    @discardableResult
    package func openConnections(_ count: Int) -> ConnectionsAhead {
        context.http.openConnections(to: endpoint + "/", count: count)
    }
}
