import Foundation

/// Bytes of compressed layers written to temporary files and not yet uploaded. The export's transfer thread
/// waits while they exceed the limit (uploads then catch up); uploads remove what they finished. Once abandoned
/// (a failure or a cancel), nobody waits any more.
final class TemporarySpaceBudget: @unchecked Sendable {
    private let condition = NSCondition()
    private let limit: Int64
    private var pending: Int64 = 0
    private var abandoned = false

    init(limit: Int64) {
        self.limit = max(0, limit)
    }

    func add(_ bytes: Int64) {
        condition.lock()
        pending += bytes
        condition.unlock()
    }

    func remove(_ bytes: Int64) {
        condition.lock()
        pending -= bytes
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks the calling thread (never a Swift task: the export's transfer thread) while over the limit.
    func waitUntilWithinLimit() {
        condition.lock()
        while pending > limit && !abandoned { condition.wait() }
        condition.unlock()
    }

    func abandon() {
        condition.lock()
        abandoned = true
        condition.broadcast()
        condition.unlock()
    }

    /// What waits for upload now (for tests and progress).
    var pendingBytes: Int64 {
        condition.lock()
        defer { condition.unlock() }
        return pending
    }
}
