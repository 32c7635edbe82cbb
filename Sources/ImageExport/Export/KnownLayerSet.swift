import Foundation

/// The layers the destination holds, by diffID, under the blob to name for each: given at once, or still being
/// found out (a base's layers checked, mounted or copied in the registry) while the Engine's export already runs.
/// The reader asks only when it reaches a layer entry, and waits there, on the feeding thread, until the set is
/// settled: the export is requested early (its first byte takes seconds: the Engine writes the whole image out
/// first) without ever compressing a layer that turns out to be held.
package final class KnownLayerSet: @unchecked Sendable, ExpressibleByDictionaryLiteral {
    private enum State {
        case pending
        case resolved([String: KnownBlob])
        case failed(String)
    }

    private let condition = NSCondition()
    private var state: State
    private var waiters: [CheckedContinuation<[String: KnownBlob], Never>] = []

    /// Settled now.
    package init(_ blobs: [String: KnownBlob]) {
        state = .resolved(blobs)
    }

    package convenience init(dictionaryLiteral elements: (String, KnownBlob)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { first, _ in first }))
    }

    private init(pending: Void) {
        state = .pending
    }

    /// Settled later, by `resolve`, `abandon` or `fail`; until then a reader that reaches a layer waits.
    package static func pending() -> KnownLayerSet { KnownLayerSet(pending: ()) }

    /// Settles the set; the first call wins.
    package func resolve(_ blobs: [String: KnownBlob]) { settle(.resolved(blobs)) }

    /// Nothing is known after all (the push was cancelled, say): a waiting reader goes on and compresses every layer.
    package func abandon() { settle(.resolved([:])) }

    /// The look-up failed and the push with it: a waiting reader stops with `ImageExportError.readerClosed`.
    package func fail(_ reason: String) { settle(.failed(reason)) }

    /// The blobs once settled (empty after a failure), for async code.
    package func settled() async -> [String: KnownBlob] {
        await withCheckedContinuation { continuation in
            condition.lock()
            switch state {
            case .pending:
                waiters.append(continuation)
                condition.unlock()
            case .resolved(let blobs):
                condition.unlock()
                continuation.resume(returning: blobs)
            case .failed:
                condition.unlock()
                continuation.resume(returning: [:])
            }
        }
    }

    /// Runs the look-up and settles the set with the blobs its result names (`blobs`); a cancelled look-up abandons
    /// the set, a failed one fails it (`reason`) before its error is thrown on.
    package func settle<Result>(
        reason: String, blobs: (Result) -> [String: KnownBlob], _ lookUp: () async throws -> Result
    ) async throws -> Result {
        do {
            let result = try await lookUp()
            resolve(blobs(result))
            return result
        } catch is CancellationError {
            abandon()
            throw CancellationError()
        } catch {
            fail(reason)
            throw error
        }
    }

    /// Whether the look-up failed (`fail`).
    package var hasFailed: Bool {
        condition.lock()
        defer { condition.unlock() }
        if case .failed = state { return true }
        return false
    }

    /// The blobs, waiting for the set to be settled. Only on a thread of its own (the feeding thread), never on
    /// Swift's cooperative pool.
    func waitForBlobs() throws -> [String: KnownBlob] {
        condition.lock()
        defer { condition.unlock() }
        while true {
            switch state {
            case .pending: condition.wait()
            case .resolved(let blobs): return blobs
            case .failed(let reason): throw ImageExportError.readerClosed(reason: reason)
            }
        }
    }

    private func settle(_ settled: State) {
        condition.lock()
        guard case .pending = state else {
            condition.unlock()
            return
        }
        state = settled
        let waiting = waiters
        waiters = []
        condition.broadcast()
        condition.unlock()
        let blobs: [String: KnownBlob]
        if case .resolved(let resolved) = settled { blobs = resolved } else { blobs = [:] }
        for waiter in waiting { waiter.resume(returning: blobs) }
    }
}
