import Foundation
import HTTPTransport
import Testing

@Suite struct ConcurrencyTests {
    @Test func fiftyConcurrentRequestsAllSucceed() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let client = HTTPClient()

        let digests = try await withThrowingTaskGroup(of: (Int, String, String).self) { group in
            for index in 0..<50 {
                group.addTask {
                    let payload = Array("request \(index) ".utf8) + [UInt8](repeating: UInt8(index), count: index * 1000)
                    let method = ["POST", "PUT", "PATCH"][index % 3]
                    let echo = try await client.send(
                        HTTPRequest(
                            method: method, url: server.url("/echo?i=\(index)"),
                            body: .bytes(payload))
                    ).echo()
                    #expect(echo.method == method)
                    #expect(echo.query == "i=\(index)")
                    return (index, echo.bodySHA256, TestSHA256.hex(payload))
                }
            }
            var results: [(Int, String, String)] = []
            for try await result in group { results.append(result) }
            return results
        }
        #expect(digests.count == 50)
        for (index, received, sent) in digests {
            #expect(received == sent, "request \(index)")
        }
    }

    @Test func testDigestMatchesKnownVectors() {
        #expect(TestSHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(TestSHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            TestSHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
