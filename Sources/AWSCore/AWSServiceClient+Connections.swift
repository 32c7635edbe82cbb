import HTTPTransport

extension AWSServiceClient {
    /// Opens `count` connections to the service's endpoint now, while something else this call needs first is
    /// still on its way (the role's credentials, from another endpoint): each an unsigned `GET /`, which the service
    /// refuses (and keeps the connection for), the answer dropped. The calls made once the credentials are there
    /// then find a connection open each instead of paying for its TCP and TLS handshakes: two or three round trips
    /// on a CI runner far from the region. Nothing secret goes with these requests; an endpoint that cannot be
    /// reached says so later, to the call that needs it.
    package func openConnections(_ count: Int) {
        context.http.openConnections(to: endpoint + "/", count: count)
    }
}
