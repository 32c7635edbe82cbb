import Foundation
import SigV4
import Synchronization
import Testing

@testable import AWSCore

@Suite struct RefreshingCredentialProviderTests {
    /// Hands out credentials that expire `lifetime` seconds after the shared fake clock, counting calls.
    final class CountingProvider: CredentialProvider {
        let calls = Mutex(0)
        let clock: FakeClock
        let lifetime: TimeInterval
        let source = "counting"

        init(clock: FakeClock, lifetime: TimeInterval) { self.clock = clock; self.lifetime = lifetime }

        func credentials() async throws -> Credentials {
            let call = calls.withLock {
                $0 += 1; return $0
            }
            try await Task.sleep(nanoseconds: 20_000_000)  // slow enough for concurrent callers to overlap
            return Credentials(
                accessKeyId: "ASIA\(call)", secretAccessKey: "s", sessionToken: "t",
                expiration: clock.now().addingTimeInterval(lifetime))
        }
    }

    final class FakeClock: Sendable {
        let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        func now() -> Date { current.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    @Test func cachesUntilTheMarginThenRefreshes() async throws {
        let clock = FakeClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let provider = RefreshingCredentialProvider(base, refreshMargin: 300, now: { clock.now() })
        #expect(try await provider.credentials().accessKeyId == "ASIA1")
        clock.advance(3000)  // 600 s left: still fresh
        #expect(try await provider.credentials().accessKeyId == "ASIA1")
        clock.advance(301)  // 299 s left: inside the margin
        #expect(try await provider.credentials().accessKeyId == "ASIA2")
        #expect(base.calls.withLock { $0 } == 2)
    }

    /// Held: fetched and outside the refresh margin. A call that would make a request is not "held".
    @Test func holdsCredentialsOnlyWhileTheyAreFresh() async throws {
        let clock = FakeClock()
        let provider = RefreshingCredentialProvider(CountingProvider(clock: clock, lifetime: 3600), refreshMargin: 300, now: { clock.now() })
        #expect(await !provider.holdsFreshCredentials())
        _ = try await provider.credentials()
        #expect(await provider.holdsFreshCredentials())
        clock.advance(3301)
        #expect(await !provider.holdsFreshCredentials())
        #expect(await !StaticCredentialProvider(Credentials(accessKeyId: "AKIA", secretAccessKey: "s"), source: "env").holdsFreshCredentials())
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let clock = FakeClock()
        let base = CountingProvider(clock: clock, lifetime: 3600)
        let provider = RefreshingCredentialProvider(base, now: { clock.now() })
        let keys = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await provider.credentials().accessKeyId } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(keys == ["ASIA1"])
        #expect(base.calls.withLock { $0 } == 1)
    }

    @Test func credentialsWithoutExpiryAreKept() async throws {
        let fixed = StaticCredentialProvider(Credentials(accessKeyId: "AKIA", secretAccessKey: "s"), source: "env")
        let provider = RefreshingCredentialProvider(fixed)
        #expect(try await provider.credentials().accessKeyId == "AKIA")
        #expect(provider.source == "env")
    }
}
