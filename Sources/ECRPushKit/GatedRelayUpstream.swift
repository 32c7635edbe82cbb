import RegistryRelay
import Synchronization

/// The relay's destination before the push knows it: the Engine's push starts while the login is made, and every
/// call that needs the destination waits here until the push either names it (`open`) or gives the Engine's push up
/// (`refuse`). Upload sessions and their bytes need no destination, so the Engine compresses new layers meanwhile.
/// Uploads may go on earlier (`openUploads`): once the login is made, the new layers the Engine compressed are
/// sent while the push still weighs its choice, which needs the destination's answers about the base.
final class GatedRelayUpstream: RelayUpstream {
    private typealias Waiter = (forUpload: Bool, continuation: CheckedContinuation<any RelayUpstream, any Error>)
    private struct State {
        var upstream: (any RelayUpstream)?
        var uploads: (any RelayUpstream)?
        var refused = false
        /// Uploads the Engine started before any destination was named: told to the first named.
        var startedUploads = 0
        var waiters: [Int: Waiter] = [:]
        var nextWaiter = 0

        /// Where an upload goes now, if anywhere: nowhere once refused, even where uploads were let through.
        var uploadDestination: (any RelayUpstream)? { refused ? nil : upstream ?? uploads }

        /// Takes the uploads started so far and the waiters `destination` may answer.
        mutating func release(uploadsOnly: Bool) -> (started: Int, waiters: [Waiter]) {
            let released = waiters.filter { !uploadsOnly || $0.value.forUpload }
            for id in released.keys { waiters.removeValue(forKey: id) }
            defer { startedUploads = 0 }
            return (startedUploads, Array(released.values))
        }
    }
    private let state = Mutex(State())

    /// The destination for every call.
    func open(_ upstream: any RelayUpstream) {
        let (started, waiters) = state.withLock { state in
            guard state.upstream == nil, !state.refused else { return (0, [Waiter]()) }
            state.upstream = upstream
            return state.release(uploadsOnly: false)
        }
        Self.tell(upstream, started: started, waiters: waiters)
    }

    /// The destination for uploads only, until `open` names the one for every call (which should reach the same
    /// repository, through a client that shares its prepared upload sessions).
    func openUploads(to upstream: any RelayUpstream) {
        let (started, waiters) = state.withLock { state in
            guard state.upstream == nil, state.uploads == nil, !state.refused else { return (0, [Waiter]()) }
            state.uploads = upstream
            return state.release(uploadsOnly: true)
        }
        Self.tell(upstream, started: started, waiters: waiters)
    }

    /// Uploads started before `upstream` was named are told to it before the waiting calls go on: an upload they
    /// finish then finds the session prepared for it.
    private static func tell(_ upstream: any RelayUpstream, started: Int, waiters: [Waiter]) {
        for _ in 0..<started { upstream.uploadStarted() }
        for waiter in waiters { waiter.continuation.resume(returning: upstream) }
    }

    func refuse() {
        let waiters = state.withLock { state in
            guard state.upstream == nil else { return [Waiter]() }
            state.refused = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: CancellationError()) }
    }

    private func destination(forUpload: Bool = false) async throws -> any RelayUpstream {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<any RelayUpstream, any Error>? = state.withLock { state in
                    if let upstream = forUpload ? state.uploadDestination : state.upstream { return .success(upstream) }
                    if state.refused || Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = (forUpload, continuation)
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    func blobSize(_ digest: String) async throws -> Int64? { try await destination().blobSize(digest) }

    func uploadStarted() {
        let upstream = state.withLock { state in
            if state.uploadDestination == nil, !state.refused { state.startedUploads += 1 }
            return state.uploadDestination
        }
        upstream?.uploadStarted()
    }

    func relayStopped() async {
        let (upstream, uploads) = state.withLock { ($0.upstream, $0.uploads) }
        await upstream?.relayStopped()
        await uploads?.relayStopped()
    }

    func uploadArriving(_ upload: RelayUpload) async throws -> Bool {
        // Refused, or the relay stopped: the Engine's push goes no further.
        guard let destination = try? await destination(forUpload: true) else { return false }
        return try await destination.uploadArriving(upload)
    }

    func uploadBlob(digest: String, size: Int64, path: String) async throws {
        try await destination(forUpload: true).uploadBlob(digest: digest, size: size, path: path)
    }

    func putManifest(bytes: [UInt8], mediaType: String, digest: String) async throws {
        try await destination().putManifest(bytes: bytes, mediaType: mediaType, digest: digest)
    }
}
