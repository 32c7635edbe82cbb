import Foundation
import Hashing
import NIOCore
import Synchronization

/// What the relay's connections share: the open upload sessions (the Engine may start one on a connection and
/// finish it on another), the blobs being sent on and sent, and what the push should learn afterwards (whether the
/// Engine came at all, the first failure of the destination, the manifest's digest).
///
/// A big upload is sent on as it arrives, where the destination can take it so (`RelayUpstream.uploadArriving`):
/// once the Engine has finished, only the digest's round trip is left, not the whole blob. A finished upload is
/// answered as soon as its digest checks, and its sending ends behind the Engine's back: the Engine goes on to its
/// next blob (the config comes only after every layer) while the last one travels, instead of waiting for each in
/// turn. The manifest waits for every blob it may name to be in the destination, and a blob the destination refused
/// fails it: the destination never gets a manifest whose blobs it lacks, and the push learns the destination's own
/// error.
final class RelaySessions: Sendable {
    let directory: String
    let upstream: any RelayUpstream
    let sendOnArrivalPast: Int64
    /// A manifest is a few KiB; anything far larger is not one.
    static let manifestLimit = 4 << 20

    private struct State {
        var spools: [String: UploadSpool] = [:]
        /// Each session's sending as it arrives (true: the destination has the blob), by session.
        var arriving: [String: Task<Bool, any Error>] = [:]
        var sent: [String: Int64] = [:]
        /// Blobs on their way to the destination, by digest.
        var forwards: [String: Forward] = [:]
        var requests = 0
        var failure: (any Error)?
        var manifestDigest: String?
        var channels: [ObjectIdentifier: any Channel] = [:]
        var tasks: [Int: Task<Void, Never>] = [:]
        var nextTask = 0
        var closed = false
    }
    private let state = Mutex(State())

    private struct Forward {
        var size: Int64
        var task: Task<Void, any Error>
    }

    init(directory: String, upstream: any RelayUpstream, sendOnArrivalPast: Int64) {
        self.directory = directory
        self.upstream = upstream
        self.sendOnArrivalPast = sendOnArrivalPast
    }

    var requests: Int { state.withLock { $0.requests } }
    var failure: (any Error)? { state.withLock { $0.failure } }
    var manifestDigest: String? { state.withLock { $0.manifestDigest } }

    func noteRequest() { state.withLock { $0.requests += 1 } }

    func opened(_ channel: any Channel) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.channels[ObjectIdentifier(channel)] = channel
            return true
        }
    }

    func closed(_ channel: any Channel) { _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) } }

    /// Runs `work` as a task the relay's stop cancels.
    func run(_ work: @escaping @Sendable () async -> Void) {
        state.withLock { state in
            guard !state.closed else { return }
            let id = state.nextTask
            state.nextTask += 1
            state.tasks[id] = Task { [weak self] in
                await work()
                _ = self?.state.withLock { $0.tasks.removeValue(forKey: id) }
            }
        }
    }

    /// Ends every connection and task, and deletes what is spooled.
    func close() -> [any Channel] {
        let (channels, tasks, spools, forwards, arriving) = state.withLock { state in
            state.closed = true
            defer { (state.channels, state.tasks, state.spools, state.forwards, state.arriving) = ([:], [:], [:], [:], [:]) }
            return (
                Array(state.channels.values), Array(state.tasks.values), Array(state.spools.values), state.forwards.values.map(\.task),
                Array(state.arriving.values)
            )
        }
        // A blob still on its way deletes its spool when its task ends.
        for task in tasks { task.cancel() }
        for task in forwards { task.cancel() }
        for task in arriving { task.cancel() }
        for spool in spools { spool.discard() }
        return channels
    }

    func spool(_ session: String) -> UploadSpool? { state.withLock { $0.spools[session] } }

    // MARK: - Answers

    func startUpload(repository: String) -> RelayReply {
        if let refusal = refusalAfterFailure() { return refusal }
        let session = UUID().uuidString.lowercased()
        do {
            let spool = try UploadSpool(directory: directory, session: session)
            let kept = state.withLock { state in
                guard !state.closed else { return false }
                state.spools[session] = spool
                return true
            }
            guard kept else {
                spool.discard()
                return .error(503, code: "UNAVAILABLE", message: "the relay is closing")
            }
            upstream.uploadStarted()
            sendArriving(spool, session: session)
        } catch {
            record(error)
            return .error(403, code: "DENIED", message: error.description)
        }
        return RelayReply(
            status: 202,
            headers: [
                ("Location", "/v2/\(repository)/blobs/uploads/\(session)"), ("Docker-Upload-UUID", session), ("Range", "0-0")
            ])
    }

    /// Starts sending the session's bytes on as they arrive, once there are more than `sendOnArrivalPast` of them
    /// (false, and the blob goes whole, when the Engine finishes before).
    private func sendArriving(_ spool: UploadSpool, session: String) {
        let (upstream, threshold) = (self.upstream, sendOnArrivalPast)
        let task = Task {
            guard await spool.grows(past: threshold) else { return false }
            return try await upstream.uploadArriving(RelayUpload(spool))
        }
        let kept = state.withLock { state in
            guard !state.closed else { return false }
            state.arriving[session] = task
            return true
        }
        if !kept { task.cancel() }
    }

    /// Stops sending a session's bytes on: the destination keeps nothing of them (the session is deleted).
    private func endSession(_ session: String, spool: UploadSpool?) {
        let arriving = state.withLock { $0.arriving.removeValue(forKey: session) }
        arriving?.cancel()
        spool?.discard()
    }

    func uploadProgress(repository: String, session: String, spool: UploadSpool) -> RelayReply {
        RelayReply(
            status: 202,
            headers: [
                ("Location", "/v2/\(repository)/blobs/uploads/\(session)"), ("Docker-Upload-UUID", session),
                ("Range", "0-\(max(0, spool.bytesWritten - 1))")
            ])
    }

    func cancelUpload(session: String) -> RelayReply {
        endSession(session, spool: state.withLock { $0.spools.removeValue(forKey: session) })
        return RelayReply(status: 204)
    }

    func blobCheck(digest: String) async -> RelayReply {
        if let size = state.withLock({ $0.sent[digest] ?? $0.forwards[digest]?.size }) { return Self.blobPresent(digest, size: size) }
        do {
            guard let size = try await upstream.blobSize(digest) else { return RelayReply(status: 404) }
            return Self.blobPresent(digest, size: size)
        } catch {
            // The Engine then uploads the layer, whose sending says what went wrong.
            return RelayReply(status: 404)
        }
    }

    func finishUpload(repository: String, session: String, digest: String) -> RelayReply {
        guard let spool = state.withLock({ $0.spools.removeValue(forKey: session) }) else {
            return .error(404, code: "BLOB_UPLOAD_UNKNOWN", message: "no upload session \(session)")
        }
        guard let written = spool.finish(), written.digest == digest else {
            endSession(session, spool: spool)
            return .error(400, code: "DIGEST_INVALID", message: "the upload's bytes are not \(digest)")
        }
        if let refusal = refusalAfterFailure() {
            endSession(session, spool: spool)
            return refusal
        }
        let upstream = self.upstream
        let started = state.withLock { state -> Bool? in
            guard !state.closed else { return nil }
            // The same blob twice (an Engine retrying a connection that broke): the first is on its way.
            guard state.sent[digest] == nil, state.forwards[digest] == nil else { return false }
            let arriving = state.arriving.removeValue(forKey: session)
            let task = Task { [weak self] in
                defer { spool.discard() }
                do {
                    // Most of the blob is in the destination already where it went on as it arrived.
                    if try await arriving?.value == true { return }
                    try await upstream.uploadBlob(digest: digest, size: written.size, path: spool.path)
                } catch {
                    self?.record(error)
                    throw error
                }
            }
            state.forwards[digest] = Forward(size: written.size, task: task)
            return true
        }
        switch started {
        case nil:
            endSession(session, spool: spool)
            return .error(503, code: "UNAVAILABLE", message: "the relay is closing")
        case false?:
            endSession(session, spool: spool)
        case true?:
            spool.accept(digest)
        }
        return RelayReply(
            status: 201, headers: [("Location", "/v2/\(repository)/blobs/\(digest)"), ("Docker-Content-Digest", digest)])
    }

    /// Waits for every blob on its way to the destination; the first refused one's error, else nil.
    private func blobsSent() async -> (digest: String, error: any Error)? {
        let forwards = state.withLock { $0.forwards }
        for (digest, forward) in forwards {
            do {
                try await forward.task.value
            } catch {
                return (digest, error)
            }
            state.withLock { state in
                state.sent[digest] = forward.size
                state.forwards[digest] = nil
            }
        }
        return nil
    }

    /// Once the destination refused a blob the push cannot succeed: the Engine is told at its next request.
    private func refusalAfterFailure() -> RelayReply? {
        guard let failure else { return nil }
        return .error(403, code: "DENIED", message: "ecrpush could not send a blob on: \(failure)")
    }

    func putManifest(repository: String, reference: String, bytes: [UInt8], mediaType: String) async -> RelayReply {
        let digest = SHA256.hash(bytes).ociDigest
        if let (blob, error) = await blobsSent() {
            return .error(403, code: "DENIED", message: "ecrpush could not send \(blob) on: \(error)")
        }
        do {
            try await upstream.putManifest(bytes: bytes, mediaType: mediaType, digest: digest)
        } catch {
            record(error)
            return .error(403, code: "DENIED", message: "ecrpush could not put the manifest: \(error)")
        }
        state.withLock { $0.manifestDigest = digest }
        return RelayReply(
            status: 201, headers: [("Location", "/v2/\(repository)/manifests/\(digest)"), ("Docker-Content-Digest", digest)])
    }

    private func record(_ error: any Error) {
        state.withLock { state in
            if state.failure == nil { state.failure = error }
        }
    }

    static func blobPresent(_ digest: String, size: Int64) -> RelayReply {
        RelayReply(
            status: 200, headers: [("Docker-Content-Digest", digest), ("Content-Type", "application/octet-stream")],
            contentLength: size)
    }
}
