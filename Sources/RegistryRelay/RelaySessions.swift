import Foundation
import Hashing
import NIOCore
import Synchronization

/// What the relay's connections share: the open upload sessions (the Engine may start one on a connection and
/// finish it on another), the blobs sent on, and what the push should learn afterwards (whether the Engine came
/// at all, the first failure of the destination, the manifest's digest).
final class RelaySessions: Sendable {
    let directory: String
    let upstream: any RelayUpstream
    /// A manifest is a few KiB; anything far larger is not one.
    static let manifestLimit = 4 << 20

    private struct State {
        var spools: [String: UploadSpool] = [:]
        var sent: [String: Int64] = [:]
        var requests = 0
        var failure: (any Error)?
        var manifestDigest: String?
        var channels: [ObjectIdentifier: any Channel] = [:]
        var tasks: [Int: Task<Void, Never>] = [:]
        var nextTask = 0
        var closed = false
    }
    private let state = Mutex(State())

    init(directory: String, upstream: any RelayUpstream) {
        self.directory = directory
        self.upstream = upstream
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
        let (channels, tasks, spools) = state.withLock { state in
            state.closed = true
            defer { (state.channels, state.tasks, state.spools) = ([:], [:], [:]) }
            return (Array(state.channels.values), Array(state.tasks.values), Array(state.spools.values))
        }
        for task in tasks { task.cancel() }
        for spool in spools { spool.discard() }
        return channels
    }

    func spool(_ session: String) -> UploadSpool? { state.withLock { $0.spools[session] } }

    // MARK: - Answers

    func startUpload(repository: String) -> RelayReply {
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
        } catch {
            record(error)
            return .error(403, code: "DENIED", message: error.description)
        }
        upstream.uploadStarted()
        return RelayReply(
            status: 202,
            headers: [
                ("Location", "/v2/\(repository)/blobs/uploads/\(session)"), ("Docker-Upload-UUID", session), ("Range", "0-0")
            ])
    }

    func uploadProgress(repository: String, session: String, spool: UploadSpool) -> RelayReply {
        RelayReply(
            status: 202,
            headers: [
                ("Location", "/v2/\(repository)/blobs/uploads/\(session)"), ("Docker-Upload-UUID", session),
                ("Range", "0-\(max(0, spool.size - 1))")
            ])
    }

    func cancelUpload(session: String) -> RelayReply {
        state.withLock { $0.spools.removeValue(forKey: session) }?.discard()
        return RelayReply(status: 204)
    }

    func blobCheck(digest: String) async -> RelayReply {
        if let size = state.withLock({ $0.sent[digest] }) { return Self.blobPresent(digest, size: size) }
        do {
            guard let size = try await upstream.blobSize(digest) else { return RelayReply(status: 404) }
            return Self.blobPresent(digest, size: size)
        } catch {
            // The Engine then uploads the layer, whose sending says what went wrong.
            return RelayReply(status: 404)
        }
    }

    func finishUpload(repository: String, session: String, digest: String) async -> RelayReply {
        guard let spool = state.withLock({ $0.spools.removeValue(forKey: session) }) else {
            return .error(404, code: "BLOB_UPLOAD_UNKNOWN", message: "no upload session \(session)")
        }
        defer { spool.discard() }
        guard let written = spool.finish(), written.digest == digest else {
            return .error(400, code: "DIGEST_INVALID", message: "the upload's bytes are not \(digest)")
        }
        do {
            try await upstream.uploadBlob(digest: digest, size: written.size, path: spool.path)
        } catch {
            record(error)
            return .error(403, code: "DENIED", message: "ecrpush could not send \(digest) on: \(error)")
        }
        state.withLock { $0.sent[digest] = written.size }
        return RelayReply(
            status: 201, headers: [("Location", "/v2/\(repository)/blobs/\(digest)"), ("Docker-Content-Digest", digest)])
    }

    func putManifest(repository: String, reference: String, bytes: [UInt8], mediaType: String) async -> RelayReply {
        let digest = SHA256.hash(bytes).ociDigest
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
