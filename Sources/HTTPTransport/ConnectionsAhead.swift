import Synchronization

/// Connections opened ahead of the requests that will take them (`HTTPClient.openConnections`), and when the first
/// of them was answered: a new connection's handshakes and one request, so about two round trips to the server
/// (three or four with TLS) and its answer. That time tells how far the server is.
package final class ConnectionsAhead: Sendable {
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private let firstAnswer = Mutex<ContinuousClock.Instant?>(nil)

    init() { start = clock.now }

    func answered() {
        let now = clock.now
        firstAnswer.withLock { if $0 == nil { $0 = now } }
    }

    /// Whether the first answer came within `limit` of the connections' opening; waits for it until then at most.
    package func answered(within limit: Duration) async -> Bool {
        let deadline = start + limit
        while true {
            if let first = firstAnswer.withLock({ $0 }) { return first <= deadline }
            if clock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}
