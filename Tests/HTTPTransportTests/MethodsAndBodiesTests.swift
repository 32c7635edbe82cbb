import Foundation
import HTTPTransport
import Testing

/// Methods, request bodies and headers as the server receives them.
@Suite struct MethodsAndBodiesTests {
    let client = HTTPClient()

    @Test(arguments: ["GET", "DELETE", "OPTIONS"])
    func bodilessMethodsSendNoBody(method: String) async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let response = try await client.send(HTTPRequest(method: method, url: server.url("/echo?q=1")))
        #expect(response.status == 200)
        let echo = try response.echo()
        #expect(echo.method == method)
        #expect(echo.query == "q=1")
        #expect(echo.bodyLength == 0)
        #expect(echo.headers["content-length"] == nil)
        #expect(echo.headers["transfer-encoding"] == nil)
        #expect(echo.headers["expect"] == nil)
        #expect(echo.headers["user-agent"] == "ecrpush")
        #expect(response.head.effectiveURL == server.url("/echo?q=1"))
    }

    @Test(arguments: ["POST", "PUT", "PATCH", "DELETE", "GET"])
    func bytesBodyIsSentWithItsLength(method: String) async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let payload = Array("{\"hello\":\"world\"}".utf8)

        let response = try await client.send(
            HTTPRequest(
                method: method, url: server.url("/echo"),
                headers: ["Content-Type": "application/json"],
                body: .bytes(payload)))
        let echo = try response.echo()
        #expect(echo.method == method)
        #expect(echo.headers["content-length"] == "\(payload.count)")
        #expect(echo.headers["content-type"] == "application/json")
        #expect(echo.headers["expect"] == nil)
        #expect(!echo.chunked)
        #expect(echo.bodySHA256 == TestSHA256.hex(payload))
    }

    @Test(arguments: ["POST", "PUT", "PATCH"])
    func emptyBodyOnBodyMethodsSendsZeroLength(method: String) async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let echo = try await client.send(HTTPRequest(method: method, url: server.url("/echo"))).echo()
        #expect(echo.method == method)
        #expect(echo.headers["content-length"] == "0")
        // curl's POST mode would add a form Content-Type; uploads must not invent one.
        #expect(echo.headers["content-type"] == nil)
        #expect(echo.bodyLength == 0)
    }

    @Test(arguments: ["PUT", "POST", "PATCH", "DELETE"])
    func fileBodyStreamsTheRequestedRange(method: String) async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let contents = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        let path = NSTemporaryDirectory() + "http-file-body-\(UUID().uuidString)"
        try Data(contents).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }

        let slice = try await client.send(
            HTTPRequest(
                method: method, url: server.url("/echo"),
                body: .file(path: path, offset: 1000, length: 100_000))
        ).echo()
        #expect(slice.method == method)
        #expect(slice.headers["content-length"] == "100000")
        #expect(slice.bodySHA256 == TestSHA256.hex(Array(contents[1000..<101_000])))

        let tail = try await client.send(
            HTTPRequest(
                method: method, url: server.url("/echo"),
                body: .file(path: path, offset: 299_000))
        ).echo()
        #expect(tail.bodyLength == 1000)
        #expect(tail.bodySHA256 == TestSHA256.hex(Array(contents[299_000...])))

        let whole = try await client.send(HTTPRequest(method: method, url: server.url("/echo"), body: .file(path: path))).echo()
        #expect(whole.bodySHA256 == TestSHA256.hex(contents))
    }

    @Test func missingOrShortBodyFileIsAnInvalidRequest() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let path = NSTemporaryDirectory() + "http-short-\(UUID().uuidString)"
        try Data(count: 10).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }

        for body in [HTTPBody.file(path: "/nonexistent/body.bin"), .file(path: path, offset: 5, length: 6)] {
            let error = await #expect(throws: HTTPError.self) {
                try await client.send(HTTPRequest(method: "PUT", url: server.url("/echo"), body: body))
            }
            guard case .invalidRequest = error else {
                Issue.record("expected invalidRequest, got \(String(describing: error))")
                continue
            }
        }
    }

    @Test(arguments: ["POST", "PUT", "PATCH", "DELETE"], [Int64?.some(200_000), nil])
    func streamBodyWithKnownOrUnknownLength(method: String, length: Int64?) async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let total: Int64 = 200_000
        let position = Box<Int64>(0)
        let producer: @Sendable (UnsafeMutableRawBufferPointer) throws -> Int = { buffer in
            position.mutate { position in
                // Small, uneven pieces: the reader must cope with partial fills.
                let count = Int(min(Int64(min(buffer.count, 7_777)), total - position))
                TestPattern.fill(UnsafeMutableRawBufferPointer(rebasing: buffer[..<count]), from: position)
                position += Int64(count)
                return count
            }
        }

        let echo = try await client.send(
            HTTPRequest(
                method: method, url: server.url("/echo"),
                body: .stream(length: length, producer: producer))
        ).echo()
        #expect(echo.method == method)
        #expect(echo.bodyLength == Int(total))
        #expect(echo.chunked == (length == nil))
        #expect(echo.headers["content-length"] == length.map { "\($0)" })
        #expect(echo.headers["expect"] == nil)
        var expected = TestSHA256()
        var remaining = Int(total)
        while remaining > 0 {
            let count = min(remaining, TestPattern.block.count)
            TestPattern.block.withUnsafeBytes { expected.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            remaining -= count
        }
        #expect(echo.bodySHA256 == expected.hexDigest())
    }

    @Test func headDoesNotWaitForTheAnnouncedBody() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let clock = ContinuousClock()
        let start = clock.now
        // The server announces a megabyte it never sends: waiting for it would hit the timeout.
        // (A generous bound far from the timeout: a loaded machine may keep this task waiting for its turn.)
        let response = try await client.send(HTTPRequest(method: "HEAD", url: server.url("/bytes?size=1000000"), timeout: 120))
        #expect(start.duration(to: clock.now) < .seconds(60))
        #expect(response.status == 200)
        #expect(response.headers["Content-Length"] == "1000000")
        #expect(response.body.isEmpty)
    }

    @Test func requestHeadersArriveAsGiven() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        var headers: HTTPHeaders = ["X-Custom": "value with  spaces", "X-Empty": "", "User-Agent": "custom-agent/1"]
        headers.add(name: "X-Repeated", value: "a")
        headers.add(name: "X-Repeated", value: "b")
        // A caller's Content-Length is replaced by the real one.
        headers.add(name: "Content-Length", value: "999")

        let echo = try await client.send(
            HTTPRequest(
                method: "POST", url: server.url("/echo"), headers: headers,
                body: .bytes([1, 2, 3]))
        ).echo()
        #expect(echo.headers["x-custom"] == "value with  spaces")
        #expect(echo.headers["x-empty"] == "")
        #expect(echo.headers["user-agent"] == "custom-agent/1")
        #expect(echo.headerCounts["x-repeated"] == 2)
        #expect(echo.headers["content-length"] == "3")
        #expect(echo.headerCounts["user-agent"] == 1)
    }

    @Test func responseHeadersKeepRepeatsAndTrimValues() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let response = try await client.send(HTTPRequest(url: server.url("/headers")))
        #expect(response.headers.values(for: "x-multi") == ["one", "two"])
        #expect(response.headers["X-SPACED"] == "padded value")
        #expect(response.bodyText == "ok\n")
    }

    @Test func interimContinueHeadIsSkipped() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let heads = Box<[HTTPResponseHead]>([])
        let head = try await client.send(
            HTTPRequest(url: server.url("/continue")),
            onHead: { head in heads.mutate { $0.append(head) } },
            onBody: { _ in })
        #expect(head.status == 201)
        #expect(head.headers["X-Final"] == "yes")
        #expect(heads.value.map(\.status) == [201])
    }

    @Test func bodilessResponseStillReportsItsHead() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let heads = Box(0)
        let bodyBytes = Box(0)
        let head = try await client.send(
            HTTPRequest(method: "DELETE", url: server.url("/status?code=204")),
            onHead: { _ in heads.mutate { $0 += 1 } },
            onBody: { chunk in bodyBytes.mutate { $0 += chunk.count } })
        #expect(head.status == 204)
        #expect(heads.value == 1)
        #expect(bodyBytes.value == 0)

        let notFound = try await client.send(HTTPRequest(url: server.url("/no-such-endpoint")))
        #expect(notFound.status == 404)
    }

    @Test func keptAliveConnectionIsReused() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let first = try await client.send(HTTPRequest(url: server.url("/echo"))).echo()
        let second = try await client.send(HTTPRequest(method: "PUT", url: server.url("/echo"), body: .bytes([1]))).echo()
        #expect(first.clientPort == second.clientPort)
    }

    @Test func malformedRequestsAreRejectedBeforeSending() async throws {
        let requests = [
            HTTPRequest(url: "ftp://127.0.0.1/file"),
            HTTPRequest(url: "not a url"),
            HTTPRequest(method: "GET /x", url: "http://127.0.0.1:9/"),
            HTTPRequest(url: "http://127.0.0.1:9/", headers: ["X-Injected": "a\r\nEvil: yes"]),
            HTTPRequest(url: "http://127.0.0.1:9/", headers: ["Bad Name": "x"]),
            HTTPRequest(method: "HEAD", url: "http://127.0.0.1:9/", body: .bytes([1])),
            HTTPRequest(url: "http://127.0.0.1:9/", timeout: 0)
        ]
        for request in requests {
            let error = await #expect(throws: HTTPError.self) { try await client.send(request) }
            guard case .invalidRequest = error else {
                Issue.record("expected invalidRequest for \(request.method) \(request.url), got \(String(describing: error))")
                continue
            }
        }
    }
}
