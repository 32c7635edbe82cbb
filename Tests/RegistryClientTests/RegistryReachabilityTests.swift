import Foundation
import RegistryClient
import Synchronization
import TestWorld
import Testing

/// A registry that refuses every connection from the start is given up on once: the first request spends its
/// retries, the others (and uploads on fresh sessions) fail at once. One that has answered is retried as ever.
@Suite struct RegistryReachabilityTests {
    /// The retries a client announced.
    final class Notices: Sendable {
        let list = Mutex<[RegistryRetryNotice]>([])
        var count: Int { list.withLock { $0.count } }
        var operations: [String] { list.withLock { $0.map(\.operation) } }
    }

    /// A client whose retries are quick, with the retries it announced.
    static func client(_ url: String) -> (RegistryClient, Notices) {
        let notices = Notices()
        var client = RegistryClient(baseURL: url, credentials: RegistryClientTests.credentials)
        client.retryPolicy = RegistryRetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.02)
        client.onRetry = { notice in notices.list.withLock { $0.append(notice) } }
        return (client, notices)
    }

    @Test func aRegistryThatNeverAnsweredIsGivenUpOnByTheFirstRequestThatSpentItsRetries() async throws {
        let (client, notices) = Self.client("http://127.0.0.1:\(try freePort())")
        let digest = "sha256:" + String(repeating: "a", count: 64)
        await #expect(throws: RegistryError.self) { try await client.blobExists(repository: "app", digest: digest) }
        #expect(notices.count == 2, "the first request retries: \(notices.operations)")

        let blob = try RegistryClientTests.blobFile(size: 1000)
        let error = await #expect(throws: RegistryError.self) {
            try await client.uploadBlob(repository: "app", digest: blob.digest, size: 1000, content: .file(path: blob.path))
        }
        await #expect(throws: RegistryError.self) { try await client.blobExists(repository: "other", digest: digest) }
        #expect(notices.count == 2, "nothing else is retried: \(notices.operations)")
        #expect("\(error.map { "\($0)" } ?? "")".contains("has not answered at all, so ecrpush gave up on it: could not connect"))
    }

    @Test func aRegistryThatAnsweredOnceIsRetriedByEveryRequest() async throws {
        let server = try FakeRegistry()
        let (client, notices) = Self.client(server.url)
        let digest = "sha256:" + String(repeating: "b", count: 64)
        #expect(try await client.blobExists(repository: "app", digest: digest) == false)
        server.stop()
        for _ in 0..<2 {
            await #expect(throws: RegistryError.self) { try await client.blobExists(repository: "app", digest: digest) }
        }
        #expect(notices.count == 4, "each request spends its retries: \(notices.operations)")
    }
}
