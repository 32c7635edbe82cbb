import Foundation
import HTTPTransport
import Testing

/// The Docker Engine's transport (HTTP over a unix socket) and HTTPS with verification always on.
@Suite struct UnixSocketAndTLSTests {
    let client = HTTPClient()

    @Test func requestsTravelOverAUnixSocket() async throws {
        let server = try await LoopbackServer.start(unixSocket: true)
        defer { server.stop() }
        let socketPath = try #require(server.info.unix)

        let get = try await client.send(HTTPRequest(url: "http://localhost/echo", unixSocketPath: socketPath))
        #expect(get.status == 200)
        #expect(get.head.effectiveURL == "http://localhost/echo")
        let getEcho = try get.echo()
        #expect(getEcho.server == "unix")
        #expect(getEcho.headers["host"] == "localhost")

        let payload = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 >> 3) }
        let post = try await client.send(
            HTTPRequest(
                method: "POST", url: "http://localhost/echo",
                body: .bytes(payload), unixSocketPath: socketPath)
        ).echo()
        #expect(post.server == "unix")
        #expect(post.bodySHA256 == TestSHA256.hex(payload))

        let streamed = Box(0)
        let head = try await client.send(
            HTTPRequest(url: "http://localhost/bytes?size=2000000", unixSocketPath: socketPath),
            onBody: { chunk in streamed.mutate { $0 += chunk.count } })
        #expect(head.status == 200)
        #expect(streamed.value == 2_000_000)
    }

    @Test func selfSignedCertificateIsRefusedUnlessItsCAIsGiven() async throws {
        let server = try await LoopbackServer.start(tls: true)
        defer { server.stop() }
        let url = server.tlsURL("/echo")

        let error = await #expect(throws: HTTPError.self) { try await client.send(HTTPRequest(url: url)) }
        guard case .tls(let failedURL, _) = error else {
            Issue.record("expected tls, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url)

        var configuration = HTTPClient.Configuration()
        let caPath: String = try #require(server.info.caPath)
        configuration.caBundlePath = caPath
        let trusting = HTTPClient(configuration: configuration)
        let echo = try await trusting.send(HTTPRequest(method: "PUT", url: url, body: .bytes([1, 2, 3]))).echo()
        #expect(echo.server == "tls")
        #expect(echo.bodyLength == 3)

        // The certificate names localhost and 127.0.0.1, nothing else: the host name is checked too.
        let wrongName = await #expect(throws: HTTPError.self) {
            try await trusting.send(HTTPRequest(url: "https://127.0.0.2:\(server.info.tlsPort ?? 0)/echo"))
        }
        if case .tls = wrongName {
        } else if case .couldNotConnect = wrongName {
        } else {
            Issue.record("expected tls (or no listener on 127.0.0.2), got \(String(describing: wrongName))")
        }

        // Leaving https for http is another origin: credentials stay behind.
        let downgrade = server.tlsURL(
            "/redirect?status=302&location="
                + (server.url("/echo").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        let downgraded = try await trusting.send(HTTPRequest(url: downgrade, headers: ["Authorization": "Bearer secret"])).echo()
        #expect(downgraded.server == "primary")
        #expect(downgraded.headers["authorization"] == nil)
    }
}
