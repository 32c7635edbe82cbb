import HTTPTransport
import SigV4
import Synchronization
import Testing

@testable import AWSCore

/// The store of requests sent ahead: an answer stands in only for the very same request, once; a request for an
/// action the early work announced waits for it rather than racing it; nothing else ever waits.
@Suite struct RequestsAheadTests {
    static let user = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret")

    static func key(
        _ action: String, body: String = "{}", credentials: Credentials = user, region: String = "us-east-1"
    )
        -> RequestsAhead.Key
    {
        RequestsAhead.Key(
            url: "https://api.ecr.\(region).amazonaws.com", action: action, body: Array(body.utf8), credentials: credentials,
            signingRegion: region)
    }

    static func response(_ text: String) -> HTTPResponse {
        HTTPResponse(head: HTTPResponseHead(status: 200, headers: HTTPHeaders(), effectiveURL: "-"), body: Array(text.utf8))
    }

    @Test func theSameRequestTakesTheEarlyAnswerOnce() async throws {
        let store = RequestsAhead()
        let sent = Mutex(0)
        let early = try await store.send(Self.key("GetAuthorizationToken")) {
            sent.withLock { $0 += 1 }
            return Self.response("token")
        }
        #expect(early.bodyText == "token")
        #expect(store.holdsAny)
        #expect(await store.take(Self.key("GetAuthorizationToken"))?.bodyText == "token")
        #expect(await store.take(Self.key("GetAuthorizationToken")) == nil, "an answer is taken once")
        #expect(sent.withLock { $0 } == 1)
        #expect(!store.holdsAny)
    }

    @Test func anyDifferenceMakesAnotherRequest() async throws {
        let store = RequestsAhead()
        _ = try await store.send(Self.key("GetAuthorizationToken")) { Self.response("token") }
        let others = [
            Self.key("DescribeRepositories"),
            Self.key("GetAuthorizationToken", body: #"{"registryIds":["111122223333"]}"#),
            Self.key("GetAuthorizationToken", credentials: Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "other")),
            Self.key("GetAuthorizationToken", credentials: Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "t")),
            Self.key("GetAuthorizationToken", region: "eu-west-1")
        ]
        for other in others {
            #expect(await store.take(other) == nil, "\(other.action) \(other.signingRegion)")
        }
        #expect(await store.take(Self.key("GetAuthorizationToken")) != nil, "still there for the same request")
    }

    /// A failed early request is no answer: the command sends its own, whose error and retries are its own.
    @Test func aFailedEarlyRequestIsSentAgain() async throws {
        let store = RequestsAhead()
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await store.send(Self.key("AssumeRole")) { throw Refused() }
        }
        #expect(await store.take(Self.key("AssumeRole")) == nil)
    }

    /// `takeOutcome` gives the early failure itself, for the caller to judge (AWSServiceClient takes a definite
    /// service error as its own answer); once, as an answer is.
    @Test func anEarlyFailureIsGivenToWhoJudgesIt() async throws {
        let store = RequestsAhead()
        struct Refused: Error {}
        _ = try? await store.send(Self.key("DescribeRepositories")) { throw Refused() }
        let outcome = try #require(await store.takeOutcome(Self.key("DescribeRepositories")))
        #expect(throws: Refused.self) { try outcome.get() }
        #expect(await store.takeOutcome(Self.key("DescribeRepositories")) == nil, "taken once")
    }

    /// The command asks before the early work has sent the request it announced: it waits for it, and takes it.
    @Test func anAnnouncedRequestIsWaitedFor() async throws {
        let store = RequestsAhead()
        store.expect(["AssumeRole", "GetAuthorizationToken"])
        let taken = Task { await store.take(Self.key("GetAuthorizationToken")) }
        #expect(await store.take(Self.key("DescribeRepositories")) == nil, "an action not announced never waits")
        try await Task.sleep(for: .milliseconds(50))
        _ = try await store.send(Self.key("AssumeRole")) { Self.response("role") }
        _ = try await store.send(Self.key("GetAuthorizationToken")) { Self.response("token") }
        #expect(await taken.value?.bodyText == "token")
    }

    /// The early work ends without sending what it announced (its credentials were not the environment's): the
    /// waiting request goes on and is sent by the command.
    @Test func aWaitEndsWhenTheEarlyWorkEnds() async throws {
        let store = RequestsAhead()
        store.expect(["GetAuthorizationToken"])
        let taken = Task { await store.take(Self.key("GetAuthorizationToken")) }
        try await Task.sleep(for: .milliseconds(50))
        store.forget(nil)
        #expect(await taken.value == nil)
        #expect(!store.holdsAny)
    }

    @Test func aCancelledWaitReturns() async throws {
        let store = RequestsAhead()
        store.expect(["GetAuthorizationToken"])
        let taken = Task { await store.take(Self.key("GetAuthorizationToken")) }
        try await Task.sleep(for: .milliseconds(50))
        taken.cancel()
        #expect(await taken.value == nil)
    }
}
