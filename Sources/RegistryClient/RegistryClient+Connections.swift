import Foundation
import HTTPTransport

extension RegistryClient {
    /// Opens `count` connections to the registry now, while the login is still being made: each a `GET /v2/`
    /// without credentials (the version check, which a registry answers with 401 or 200 and keeps the connection
    /// for), whose answer is dropped. The push's first requests, made side by side once the login is there (the
    /// base's checks, the config's, the first upload session), then find a connection open each instead of paying
    /// for its TCP (and TLS) handshakes on the push's critical path. No credentials go with these requests; a
    /// registry that cannot be reached says so later, to the request that needs it.
    package func openConnections(_ count: Int) {
        let (http, url) = (self.http, "\(baseURL)/v2/")
        for _ in 0..<count {
            Task {
                var request = HTTPRequest(method: "GET", url: url)
                request.timeout = 10
                _ = try? await http.send(request)
            }
        }
    }
}
