import HTTPTransport
import SigV4
import Synchronization

/// Requests sent before the command knows it needs them, and their answers, kept for the command's own request.
///
/// `push` starts with a login (AssumeRole, then GetAuthorizationToken) that the environment alone often decides.
/// Reading the command line takes ArgumentParser 15-25 ms of a push that lasts 0.2 s. Work started inside
/// `RequestsAhead.$sending` sends its requests at once and leaves each answer here. When the command's own
/// request is the same request (same URL, action, body, credentials and signing region), it takes that answer
/// instead of sending. Whatever the command line changes (a region, a role, a registry id) changes the request, so
/// the early answer is left unused: it can never stand in for another request.
///
/// The early work announces the actions it is going to send (`expect`). A command's request for one of those that
/// finds no answer yet waits until the early work has sent it (or ended), so that the two never race to send the
/// same request twice. Requests for other actions never wait.
package final class RequestsAhead: Sendable {
    /// The process's store, where the command's requests look. A test binds a store of its own.
    @TaskLocal package static var current = RequestsAhead()

    /// True inside work started ahead of the command: its requests are sent and their answers kept in `current`.
    @TaskLocal package static var sending = false

    struct Key: Equatable {
        var url: String
        var action: String
        var body: [UInt8]
        var credentials: Credentials
        var signingRegion: String
    }

    private struct Entry {
        var key: Key
        var response: Task<HTTPResponse, any Error>
    }

    private struct State {
        var entries: [Entry] = []
        /// Actions the early work will still send.
        var expected: [String] = []
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        /// Counts the early work's steps (a request sent, an action dropped), so that a waiter who looked before a
        /// step does not wait for it.
        var generation = 0

        mutating func wakeAll() -> [CheckedContinuation<Void, Never>] {
            generation += 1
            defer { waiters = [:] }
            return Array(waiters.values)
        }
    }

    private let state = Mutex(State())

    package init() {}

    /// Whether anything was, or is about to be, sent ahead (the common case, nothing, costs one lock).
    package var holdsAny: Bool { state.withLock { !$0.entries.isEmpty || !$0.expected.isEmpty } }

    /// Announces the actions the early work is about to send, before it starts.
    package func expect(_ actions: [String]) {
        state.withLock { $0.expected += actions }
    }

    /// The early work will not send `action` after all (or has ended: nil, every action).
    package func forget(_ action: String?) {
        let waiters = state.withLock { state in
            if let action {
                if let index = state.expected.firstIndex(of: action) { state.expected.remove(at: index) }
            } else {
                state.expected = []
            }
            return state.wakeAll()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Sends the request now (`send`) and keeps its answer for the command; returns it as well.
    func send(_ key: Key, _ send: @escaping @Sendable () async throws -> HTTPResponse) async throws -> HTTPResponse {
        let task = Task { try await send() }
        let waiters = state.withLock { state in
            state.entries.append(Entry(key: key, response: task))
            if let index = state.expected.firstIndex(of: key.action) { state.expected.remove(at: index) }
            return state.wakeAll()
        }
        for waiter in waiters { waiter.resume() }
        return try await task.value
    }

    /// The answer to the same request sent ahead, waited for when it is still on its way. Each answer is taken once.
    /// nil when none was sent or it failed: the command then sends its own, whose retries and errors are its own.
    func take(_ key: Key) async -> HTTPResponse? {
        try? await takeOutcome(key)?.get()
    }

    /// `take`, with the early request's failure when it failed: the caller judges whether the same request would
    /// fail the same way (a missing repository) or deserves one more try (a 503). nil when none was sent.
    func takeOutcome(_ key: Key) async -> Result<HTTPResponse, any Error>? {
        while true {
            enum Found { case task(Task<HTTPResponse, any Error>), waitForEarlyWork(generation: Int), none }
            let found: Found = state.withLock { state in
                if let index = state.entries.firstIndex(where: { $0.key == key }) {
                    return .task(state.entries.remove(at: index).response)
                }
                return state.expected.contains(key.action) ? .waitForEarlyWork(generation: state.generation) : .none
            }
            switch found {
            case .none:
                return nil
            case .task(let task):
                return await withTaskCancellationHandler {
                    await task.result
                } onCancel: {
                    task.cancel()
                }
            case .waitForEarlyWork(let generation):
                if Task.isCancelled { return nil }
                await waitForStep(after: generation)
            }
        }
    }

    /// Returns once the early work has taken a step after `generation` (at once when it has already, or when
    /// cancelled).
    private func waitForStep(after generation: Int) async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if Task.isCancelled || state.generation != generation { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
