import HTTPTransport
import Synchronization
import Testing

@testable import DockerEngine

/// The store of reads made before the command knew it needed them: an early answer stands in for the same read
/// once, and for nothing else.
@Suite struct EngineReadsAheadTests {
    /// Answers with the body `name` and counts its calls.
    final class Sender: Sendable {
        let calls = Mutex(0)
        let name: String
        let fails: Bool

        init(_ name: String, fails: Bool = false) {
            (self.name, self.fails) = (name, fails)
        }

        func send() async throws -> HTTPResponse {
            calls.withLock { $0 += 1 }
            if fails { throw HTTPError.couldNotConnect(url: "unix", detail: "refused") }
            return HTTPResponse(head: HTTPResponseHead(status: 200, headers: HTTPHeaders(), effectiveURL: "x"), body: Array(name.utf8))
        }

        var count: Int { calls.withLock { $0 } }
    }

    static func read(_ url: String, socket: String? = "/run/docker.sock") -> HTTPRequest {
        HTTPRequest(method: "GET", url: url, unixSocketPath: socket)
    }

    static func body(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func theSameReadTakesTheEarlyAnswerOnce() async throws {
        let store = EngineReadsAhead()
        let early = Sender("early")
        let own = Sender("own")
        let request = Self.read("http://localhost/v1.43/images/app:v4/json")
        _ = try await EngineReadsAhead.$recording.withValue(true) { try await store.answer(for: request, send: early.send) }
        #expect(store.count == 1)
        #expect(Self.body(try await store.answer(for: request, send: own.send)) == "early")
        #expect(own.count == 0)
        #expect(Self.body(try await store.answer(for: request, send: own.send)) == "own")
        #expect((early.count, own.count) == (1, 1))
        #expect(store.count == 0)
    }

    @Test func anotherURLOrSocketIsSentAnew() async throws {
        let store = EngineReadsAhead()
        let early = Sender("early")
        let own = Sender("own")
        let request = Self.read("http://localhost/v1.43/images/app:v4/json")
        _ = try await EngineReadsAhead.$recording.withValue(true) { try await store.answer(for: request, send: early.send) }
        // Another image, another API version, another Engine.
        for other in [
            Self.read("http://localhost/v1.43/images/app:v5/json"), Self.read("http://localhost/v1.41/images/app:v4/json"),
            Self.read("http://localhost/v1.43/images/app:v4/json", socket: "/other.sock")
        ] {
            #expect(Self.body(try await store.answer(for: other, send: own.send)) == "own")
        }
        #expect(own.count == 3)
        #expect(store.count == 1)
    }

    @Test func anEarlyFailureLeavesTheReadToTheCommand() async throws {
        let store = EngineReadsAhead()
        let request = Self.read("http://localhost/v1.43/images/json")
        await #expect(throws: HTTPError.self) {
            try await EngineReadsAhead.$recording.withValue(true) { try await store.answer(for: request, send: Sender("early", fails: true).send) }
        }
        let own = Sender("own")
        #expect(Self.body(try await store.answer(for: request, send: own.send)) == "own")
        #expect(own.count == 1)
    }

    @Test func onlyPlainReadsAreShared() async throws {
        var post = Self.read("http://localhost/v1.43/images/app:v4/tag?repo=a&tag=b")
        post.method = "POST"
        var withHeader = Self.read("http://localhost/v1.43/images/app:v4/json")
        withHeader.headers.add(name: "X-Registry-Auth", value: "e30=")
        for request in [post, withHeader] {
            let store = EngineReadsAhead()
            let sender = Sender("sent")
            _ = try await EngineReadsAhead.$recording.withValue(true) { try await store.answer(for: request, send: sender.send) }
            _ = try await store.answer(for: request, send: sender.send)
            #expect(sender.count == 2)
            #expect(store.count == 0)
        }
    }
}
