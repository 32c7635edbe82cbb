import Foundation
import HTTPTransport
import Testing

/// Redirects are followed by the client itself, and credentials never leave their origin.
@Suite struct RedirectTests {
    let client = HTTPClient()
    static let credentials: HTTPHeaders = [
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/ecr/aws4_request, Signature=abc",
        "X-Amz-Security-Token": "session-token",
        "X-Custom": "kept"
    ]

    private func redirect(_ server: LoopbackServer, status: Int = 302, to location: String) -> String {
        let encoded = location.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? location
        return server.url("/redirect?status=\(status)&location=\(encoded)")
    }

    @Test func crossHostRedirectDropsCredentials() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let target = server.otherHostURL("/echo")

        let response = try await client.send(HTTPRequest(url: redirect(server, to: target), headers: Self.credentials))
        let echo = try response.echo()
        #expect(echo.server == "secondary")
        #expect(echo.headers["authorization"] == nil)
        #expect(echo.headers["x-amz-security-token"] == nil)
        #expect(echo.headers["x-custom"] == "kept")
        #expect(response.head.effectiveURL == target)
    }

    @Test func sameHostOtherPortCountsAsAnotherOrigin() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let echo = try await client.send(
            HTTPRequest(
                url: redirect(server, status: 301, to: server.otherPortURL("/echo")),
                headers: Self.credentials)
        ).echo()
        #expect(echo.server == "secondary")
        #expect(echo.headers["authorization"] == nil)
        #expect(echo.headers["x-amz-security-token"] == nil)
    }

    @Test func sameOriginRelativeRedirectKeepsCredentials() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let response = try await client.send(
            HTTPRequest(
                url: redirect(server, status: 307, to: "/echo?after=redirect"),
                headers: Self.credentials))
        let echo = try response.echo()
        #expect(echo.server == "primary")
        #expect(echo.query == "after=redirect")
        #expect(echo.headers["authorization"] == Self.credentials["Authorization"])
        #expect(echo.headers["x-amz-security-token"] == "session-token")
        #expect(response.head.effectiveURL == server.url("/echo?after=redirect"))
    }

    @Test func seeOtherTurnsAPostIntoAGetWithoutBody() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let echo = try await client.send(
            HTTPRequest(
                method: "POST", url: redirect(server, status: 303, to: "/echo"),
                headers: ["Content-Type": "application/json"],
                body: .stream(length: 5) { buffer in
                    buffer.copyBytes(from: Array("hello".utf8).prefix(buffer.count))
                    return min(5, buffer.count)
                })
        ).echo()
        #expect(echo.method == "GET")
        #expect(echo.bodyLength == 0)
        #expect(echo.headers["content-type"] == nil)
        #expect(echo.headers["content-length"] == nil)
    }

    @Test(arguments: [307, 308])
    func temporaryAndPermanentRedirectsReplayTheBody(status: Int) async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let payload = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 13) }
        let path = NSTemporaryDirectory() + "http-redirect-body-\(UUID().uuidString)"
        try Data(payload).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }

        let bytes = try await client.send(
            HTTPRequest(
                method: "POST", url: redirect(server, status: status, to: server.otherHostURL("/echo")),
                headers: Self.credentials, body: .bytes(payload))
        ).echo()
        #expect(bytes.method == "POST")
        #expect(bytes.server == "secondary")
        #expect(bytes.bodySHA256 == TestSHA256.hex(payload))
        #expect(bytes.headers["authorization"] == nil)

        let file = try await client.send(
            HTTPRequest(
                method: "PUT", url: redirect(server, status: status, to: "/echo"),
                headers: Self.credentials, body: .file(path: path, offset: 100))
        ).echo()
        #expect(file.method == "PUT")
        #expect(file.bodySHA256 == TestSHA256.hex(Array(payload[100...])))
        #expect(file.headers["authorization"] != nil)
    }

    @Test func redirectsThatWouldLoseTheRequestAreReturnedAsIs() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        // A stream cannot be sent twice.
        let streamed = try await client.send(
            HTTPRequest(
                method: "PUT", url: redirect(server, status: 307, to: "/echo"),
                body: .stream(length: 3) { buffer in
                    buffer.copyBytes(from: [1, 2, 3].prefix(buffer.count))
                    return min(3, buffer.count)
                }))
        #expect(streamed.status == 307)
        // 301/302 would change a POST's meaning.
        let posted = try await client.send(
            HTTPRequest(
                method: "POST", url: redirect(server, status: 302, to: "/echo"),
                body: .bytes([1])))
        #expect(posted.status == 302)
        #expect(posted.headers["Location"] == "/echo")

        var configuration = HTTPClient.Configuration()
        configuration.followRedirects = false
        let notFollowing = try await HTTPClient(configuration: configuration).send(HTTPRequest(url: redirect(server, to: "/echo")))
        #expect(notFollowing.status == 302)
        #expect(notFollowing.bodyText == "redirect body that must be discarded\n")
    }

    @Test func redirectLoopsStopAtTheLimit() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.maxRedirects = 3
        let client = HTTPClient(configuration: configuration)

        let error = await #expect(throws: HTTPError.self) { try await client.send(HTTPRequest(url: server.url("/loop"))) }
        guard case .transport(_, let code, _) = error else {
            Issue.record("expected transport, got \(String(describing: error))")
            return
        }
        #expect(code == 47)  // CURLE_TOO_MANY_REDIRECTS

        // Exactly maxRedirects hops are fine.
        let twoHops = redirect(server, to: redirect(server, to: redirect(server, to: "/echo")))
        #expect(try await client.send(HTTPRequest(url: twoHops)).status == 200)
    }

    @Test func streamedRedirectReportsOnlyTheFinalHead() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let heads = Box<[Int]>([])
        let body = Box<[UInt8]>([])
        let head = try await client.send(
            HTTPRequest(url: redirect(server, to: server.otherHostURL("/bytes?size=5000"))),
            onHead: { head in heads.mutate { $0.append(head.status) } },
            onBody: { chunk in body.mutate { $0.append(contentsOf: chunk) } })
        #expect(head.status == 200)
        #expect(heads.value == [200])
        #expect(body.value.count == 5000)
        #expect(TestSHA256.hex(body.value) == head.headers["X-Content-SHA256"])
        #expect(head.effectiveURL == server.otherHostURL("/bytes?size=5000"))
    }
}
