import Foundation
import HTTPTransport
import Testing

/// Large bodies both ways stay streams: bounded pieces, checked end to end by SHA-256.
@Suite struct StreamingTests {
    let client = HTTPClient()
    static let fiftyMiB: Int64 = 50 << 20

    /// What a streamed download saw.
    struct Download {
        var heads: [HTTPResponseHead] = []
        var bodyBeforeHead = false
        var hasher = TestSHA256()
        var bytes = 0
        var chunks = 0
        var largestChunk = 0
    }

    private func download(_ url: String) async throws -> (head: HTTPResponseHead, seen: Download) {
        let seen = Box(Download())
        let head = try await client.send(
            HTTPRequest(url: url),
            onHead: { head in seen.mutate { $0.heads.append(head) } },
            onBody: { chunk in
                seen.mutate { state in
                    if state.heads.isEmpty { state.bodyBeforeHead = true }
                    state.hasher.update(chunk)
                    state.bytes += chunk.count
                    state.chunks += 1
                    state.largestChunk = max(state.largestChunk, chunk.count)
                }
            })
        return (head, seen.value)
    }

    @Test func fiftyMebibyteDownloadStreamsToOnBody() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        var (head, seen) = try await download(server.url("/bytes?size=\(Self.fiftyMiB)"))
        #expect(head.status == 200)
        #expect(seen.heads.count == 1)
        #expect(!seen.bodyBeforeHead)
        #expect(seen.bytes == Int(Self.fiftyMiB))
        // Handed over in curl-buffer-sized pieces, never as one accumulated body.
        #expect(seen.largestChunk <= 1 << 20)
        #expect(seen.chunks >= 50)
        #expect(seen.hasher.hexDigest() == head.headers["X-Content-SHA256"])
    }

    @Test func chunkedDownloadIgnoresTrailers() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        var (head, seen) = try await download(server.url("/bytes?size=3000001&chunked=1"))
        #expect(seen.bytes == 3_000_001)
        #expect(seen.hasher.hexDigest() == head.headers["X-Content-SHA256"])
        #expect(head.headers["X-Trailer"] == nil)
        #expect(seen.heads.count == 1)
    }

    @Test(arguments: [true, false])
    func fiftyMebibyteUploadStreamsFromTheProducer(knownLength: Bool) async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        struct Upload {
            var position: Int64 = 0
            var hasher = TestSHA256()
            var calls = 0
            var largestBuffer = 0
        }
        let total = Self.fiftyMiB
        let upload = Box(Upload())
        let producer: @Sendable (UnsafeMutableRawBufferPointer) throws -> Int = { buffer in
            upload.mutate { state in
                state.calls += 1
                state.largestBuffer = max(state.largestBuffer, buffer.count)
                let count = Int(min(Int64(buffer.count), total - state.position))
                let filled = UnsafeMutableRawBufferPointer(rebasing: buffer[..<count])
                TestPattern.fill(filled, from: state.position)
                state.hasher.update(UnsafeRawBufferPointer(filled))
                state.position += Int64(count)
                return count
            }
        }

        let response = try await client.send(
            HTTPRequest(
                method: "PUT", url: server.url("/echo"),
                body: .stream(length: knownLength ? total : nil, producer: producer)))
        let echo = try response.echo()
        var state = upload.value
        #expect(echo.bodyLength == Int(total))
        #expect(echo.chunked == !knownLength)
        #expect(echo.bodySHA256 == state.hasher.hexDigest())
        // The producer filled curl's upload buffer piece by piece.
        #expect(state.largestBuffer <= 2 << 20)
        #expect(state.calls >= 25)

        // And what was sent is the pattern the server knows.
        let reference = try await client.send(HTTPRequest(method: "HEAD", url: server.url("/bytes?size=\(total)")))
        #expect(echo.bodySHA256 == reference.headers["X-Content-SHA256"])
    }

    @Test func bufferedResponseIsCappedAtTheConfiguredLimit() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.maxBufferedResponseBytes = 1 << 20
        let client = HTTPClient(configuration: configuration)

        let exact = try await client.send(HTTPRequest(url: server.url("/bytes?size=\(1 << 20)")))
        #expect(exact.body.count == 1 << 20)
        #expect(TestSHA256.hex(exact.body) == exact.headers["X-Content-SHA256"])

        for url in [server.url("/bytes?size=\((1 << 20) + 1)"), server.url("/bytes?size=\(8 << 20)&chunked=1")] {
            let error = await #expect(throws: HTTPError.self) { try await client.send(HTTPRequest(url: url)) }
            guard case .responseTooLarge(let failedURL, let limit) = error else {
                Issue.record("expected responseTooLarge, got \(String(describing: error))")
                continue
            }
            #expect(limit == 1 << 20)
            #expect(failedURL == url)
        }

        // The client (and its connections) stay usable afterwards.
        let after = try await client.send(HTTPRequest(url: server.url("/echo")))
        #expect(after.status == 200)
    }
}
