import RegistryRelay
import Synchronization

/// The relay's destination before the push knows it: the Engine's push starts while the login is made, and every
/// call that needs the destination waits here until the push either names it (`open`) or gives the Engine's push up
/// (`refuse`). Upload sessions and their bytes need no destination, so the Engine compresses new layers meanwhile.
final class GatedRelayUpstream: RelayUpstream {
    private struct State {
        var upstream: (any RelayUpstream)?
        var refused = false
        /// Uploads the Engine started before the destination was named: told to it as it is named.
        var startedUploads = 0
        var waiters: [Int: CheckedContinuation<any RelayUpstream, any Error>] = [:]
        var nextWaiter = 0
    }
    private let state = Mutex(State())

    func open(_ upstream: any RelayUpstream) {
        let (started, waiters) = state.withLock { state in
            guard state.upstream == nil, !state.refused else { return (0, [CheckedContinuation<any RelayUpstream, any Error>]()) }
            state.upstream = upstream
            defer { (state.waiters, state.startedUploads) = ([:], 0) }
            return (state.startedUploads, Array(state.waiters.values))
        }
        // Before the waiting calls go on: an upload they finish then finds the session prepared for it.
        for _ in 0..<started { upstream.uploadStarted() }
        for waiter in waiters { waiter.resume(returning: upstream) }
    }

    func refuse() {
        let waiters = state.withLock { state in
            guard state.upstream == nil else { return [CheckedContinuation<any RelayUpstream, any Error>]() }
            state.refused = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(throwing: CancellationError()) }
    }

    private func destination() async throws -> any RelayUpstream {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<any RelayUpstream, any Error>? = state.withLock { state in
                    if let upstream = state.upstream { return .success(upstream) }
                    if state.refused || Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    func blobSize(_ digest: String) async throws -> Int64? { try await destination().blobSize(digest) }

    func uploadStarted() {
        let upstream = state.withLock { state in
            if state.upstream == nil, !state.refused { state.startedUploads += 1 }
            return state.upstream
        }
        upstream?.uploadStarted()
    }

    func relayStopped() async {
        if let upstream = state.withLock({ $0.upstream }) { await upstream.relayStopped() }
    }

    func uploadBlob(digest: String, size: Int64, path: String) async throws {
        try await destination().uploadBlob(digest: digest, size: size, path: path)
    }

    func putManifest(bytes: [UInt8], mediaType: String, digest: String) async throws {
        try await destination().putManifest(bytes: bytes, mediaType: mediaType, digest: digest)
    }
}
