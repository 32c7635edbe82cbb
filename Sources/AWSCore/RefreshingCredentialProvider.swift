import Foundation
import SigV4

/// Caches another provider's temporary credentials and fetches new ones shortly before they expire,
/// so that a long build or push never signs with expired credentials. Concurrent callers share one refresh.
package actor RefreshingCredentialProvider: CredentialProvider {
    private let base: any CredentialProvider
    private let refreshMargin: TimeInterval
    private let now: @Sendable () -> Date
    private var cached: Credentials?
    private var inFlight: Task<Credentials, any Error>?

    package nonisolated let source: String

    package init(
        _ base: any CredentialProvider, refreshMargin: TimeInterval = 300,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.base = base
        self.refreshMargin = refreshMargin
        self.now = now
        self.source = base.source
    }

    package func credentials() async throws -> Credentials {
        if let cached, isFresh(cached) { return cached }
        if let inFlight { return try await inFlight.value }
        let task = Task { try await base.credentials() }
        inFlight = task
        defer { inFlight = nil }
        let fresh = try await task.value
        cached = fresh
        return fresh
    }

    package func holdsFreshCredentials() async -> Bool {
        cached.map(isFresh) ?? false
    }

    private func isFresh(_ credentials: Credentials) -> Bool {
        guard let expiration = credentials.expiration else { return true }
        return expiration.timeIntervalSince(now()) > refreshMargin
    }
}
