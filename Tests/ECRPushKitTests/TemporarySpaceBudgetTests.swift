import Foundation
import Testing

@testable import ECRPushKit

/// The export's pause while too many compressed bytes wait for upload: released by uploads, or by abandoning.
@Suite struct TemporarySpaceBudgetTests {
    /// Set once the waiting thread got through (a flag, so a signal sent before anyone listens is not lost).
    final class Finished: @unchecked Sendable {
        let condition = NSCondition()
        var finished = false
    }

    /// Runs `wait` on a thread of its own (as the export's transfer thread does).
    static func waiter(_ budget: TemporarySpaceBudget) -> Finished {
        let done = Finished()
        Thread {
            budget.waitUntilWithinLimit()
            done.condition.lock()
            done.finished = true
            done.condition.broadcast()
            done.condition.unlock()
        }.start()
        return done
    }

    static func returns(_ done: Finished, within seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        done.condition.lock()
        defer { done.condition.unlock() }
        while !done.finished {
            if !done.condition.wait(until: deadline) { return done.finished }
        }
        return true
    }

    @Test func withinTheLimitNobodyWaits() {
        let budget = TemporarySpaceBudget(limit: 100)
        budget.add(100)
        let done = Self.waiter(budget)
        #expect(Self.returns(done, within: 5))
    }

    @Test func overTheLimitWaitsUntilUploadsCatchUp() {
        let budget = TemporarySpaceBudget(limit: 100)
        budget.add(80)
        budget.add(80)
        let done = Self.waiter(budget)
        #expect(!Self.returns(done, within: 0.2), "160 bytes pending against a limit of 100")
        budget.remove(80)
        #expect(Self.returns(done, within: 5))
        #expect(budget.pendingBytes == 80)
    }

    @Test func abandoningReleasesTheWaiter() {
        let budget = TemporarySpaceBudget(limit: 0)
        budget.add(1)
        let done = Self.waiter(budget)
        #expect(!Self.returns(done, within: 0.2))
        budget.abandon()
        #expect(Self.returns(done, within: 5))
        // And once abandoned, nobody waits again (a failing push must never hang its transfer thread).
        budget.add(1000)
        #expect(Self.returns(Self.waiter(budget), within: 5))
    }
}
