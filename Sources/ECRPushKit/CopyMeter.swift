import Foundation
import HTTPTransport
import Synchronization

/// How far the copy of a base from another registry has got, so that `--transport auto` can tell a copy that ends
/// in a moment from one that takes seconds (a slow link): the Engine's push has to wait for the copy, while
/// ecrpush's push can read the image from the Engine beside it.
package final class CopyMeter: Sendable {
    private struct State {
        var plan: [String: KnownLayer]?
        var total: Int64?
        var started: ContinuousClock.Instant?
        var done: [String: Int64] = [:]
        var finished = false
        /// Those waiting for the plan (`planned()`).
        var waiting: [CheckedContinuation<[String: KnownLayer]?, Never>] = []

        mutating func takeWaiting() -> [CheckedContinuation<[String: KnownLayer]?, Never>] {
            defer { waiting = [] }
            return waiting
        }
    }

    private let state = Mutex(State())

    package init() {}

    /// The copy is about to move `bytes` (the missing layers' sizes), after which the destination holds `plan`
    /// (diffID → the base's blob: those it had and those being copied), unless a copy fails.
    package func expect(_ bytes: Int64, plan: [String: KnownLayer] = [:]) {
        let waiting = state.withLock {
            $0.plan = plan
            $0.total = bytes
            $0.started = .now
            return $0.takeWaiting()
        }
        for continuation in waiting { continuation.resume(returning: plan) }
    }

    /// `digest` has `done` of its bytes at the destination.
    package func progress(_ digest: String, _ done: Int64) {
        state.withLock { $0.done[digest] = done }
    }

    /// Every layer copied, or given up.
    package func finish() {
        let (waiting, plan) = state.withLock {
            $0.finished = true
            return ($0.takeWaiting(), $0.plan)
        }
        for continuation in waiting { continuation.resume(returning: plan) }
    }

    package var isFinished: Bool { state.withLock { $0.finished } }

    /// What the destination will hold once every copy succeeds; nil before the transfers began.
    package var plan: [String: KnownLayer]? { state.withLock { $0.plan } }

    /// The plan once the destination has said what it lacks, or nil when the copy ended before (it failed while
    /// asking). Only a moment's wait (a few HEADs), where the copy's end may be seconds away; a caller that is
    /// cancelled must cancel the copy, whose end (`finish()`) releases it.
    package func planned() async -> [String: KnownLayer]? {
        await withCheckedContinuation { continuation in
            let ready: [String: KnownLayer]?? = state.withLock {
                if $0.plan != nil || $0.finished { return .some($0.plan) }
                $0.waiting.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// When the layers' transfers began (once the destination was asked what it lacks); nil before.
    package var transfersBegan: ContinuousClock.Instant? { state.withLock { $0.started } }

    /// The seconds the copy still needs at its rate so far: nil while nothing has moved (a stalled or not yet
    /// started copy), 0 when it is over.
    package func remainingSeconds(now: ContinuousClock.Instant = .now) -> Double? {
        state.withLock { state in
            if state.finished { return 0 }
            guard let total = state.total, let started = state.started else { return nil }
            let done = state.done.values.reduce(0, +)
            guard done > 0 else { return total == 0 ? 0 : nil }
            let seconds = started.duration(to: now).inSeconds
            guard seconds > 0 else { return nil }
            return Double(max(0, total - done)) / (Double(done) / seconds)
        }
    }
}
