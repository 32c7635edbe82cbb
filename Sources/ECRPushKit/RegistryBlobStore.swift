import ImageExport
import RegistryClient

/// A repository reached over the distribution API with the ECR token's basic auth (the `registry` transport).
struct RegistryBlobStore: BlobStore {
    let client: RegistryClient
    let repository: String
    /// `host[:port]`, for messages and errors.
    let registryName: String

    var place: String { RepositoryLocation(registry: registryName, repository: repository).description }

    func existing(_ digests: [String]) async throws -> Set<String> {
        let (client, repository, registryName) = (self.client, self.repository, self.registryName)
        return try await RememberedImage.digests(digests, jobs: 8) { digest in
            try await Self.mapped(action: "BatchCheckLayerAvailability", repository: repository, registry: registryName) {
                try await client.blobExists(repository: repository, digest: digest)
            }
        }
    }

    func size(of digest: String) async throws -> Int64? {
        let (client, repository) = (self.client, self.repository)
        return try await Self.mapped(action: "BatchCheckLayerAvailability", repository: repository, registry: registryName) {
            try await client.blobSize(repository: repository, digest: digest)
        }
    }

    func mount(_ digest: String, from source: String) async throws -> Bool {
        guard source != repository else { return false }
        return (try? await client.mountBlob(repository: repository, digest: digest, from: source)) == true
    }

    func mountKeepingSession(_ digest: String, from source: String) async throws -> MountAnswer {
        guard source != repository else { return .refused(session: nil) }
        return (try? await client.mountOrOpenSession(repository: repository, digest: digest, from: source)) ?? .refused(session: nil)
    }

    func copy(
        _ layer: KnownLayer, from source: RegistryClient, repository sourceRepository: String, progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool {
        try await copy(layer, from: source, repository: sourceRepository, session: nil, progress: progress)
    }

    /// A layer of another repository of this registry that it would not mount (ECR without blob mounting, the
    /// account's default): read from that repository and written to this one by ecrpush, its digest kept, so the
    /// manifest names the base's own blobs and nothing is compressed again. `session`: the refused mount's upload
    /// session, which takes the copy (the distribution spec's fallback: no `DELETE`, no second `POST`).
    func copyWithinRegistry(
        _ layer: KnownLayer, from sourceRepository: String, session: String?, progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool {
        try await copy(layer, from: client, repository: sourceRepository, session: session, progress: progress)
    }

    /// `layer` read from `source` (this registry or another) and written here; `session`: an upload session of this
    /// repository opened already (a refused mount's), which takes the copy.
    func copy(
        _ layer: KnownLayer, from source: RegistryClient, repository sourceRepository: String, session: String?,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool {
        let (client, repository) = (self.client, self.repository)
        try await Self.mapped(action: "UploadLayerPart", repository: repository, registry: registryName) {
            try await client.copyBlob(
                digest: layer.digest, size: layer.size, from: source, sourceRepository: sourceRepository, to: repository, session: session,
                progress: progress)
        }
        return true
    }

    func upload(_ blob: PreparedBlob, progress: @escaping @Sendable (Int64) -> Void, onInfo: @escaping @Sendable (String) -> Void) async throws {
        let content: BlobContent
        switch blob.source {
        case .file(let path): content = .file(path: path)
        case .bytes(let bytes): content = .bytes(bytes)
        }
        try await Self.mapped(action: "UploadLayerPart", repository: repository, registry: registryName) {
            try await client.uploadBlob(repository: repository, digest: blob.digest, size: blob.size, content: content, progress: progress)
        }
    }

    func prepareUpload() { client.openUploadSessionAhead(repository: repository) }

    func discardPreparedUploads() async { await client.closeUploadSessionsAhead() }

    var uploadsGrowingLayers: Bool { true }

    /// One chunked PATCH that follows the file as the compressor writes it, then the PUT once its digest is known.
    func uploadGrowing(
        _ layer: GrowingLayer, progress: @escaping @Sendable (Int64) -> Void, onInfo: @escaping @Sendable (String) -> Void
    ) async -> Bool {
        do {
            let reader = try layer.openReader()
            try await client.uploadStreamingBlob(
                repository: repository, name: "layer \(layer.shortID)",
                read: { buffer in
                    let count = try reader.read(into: buffer)
                    progress(reader.offset)
                    return count
                }, digest: { try await layer.completed().digest })
            return true
        } catch {
            if !Task.isCancelled { onInfo("Layer \(layer.shortID) could not be sent while it was compressed (\(error)); sending it once compressed") }
            progress(0)
            return false
        }
    }

    /// One chunked PATCH that follows the Engine's upload to the relay, then the PUT once its digest checked.
    func uploadArriving(
        name: String, open: @escaping @Sendable () throws -> @Sendable (UnsafeMutableRawBufferPointer) throws -> Int,
        digest: @escaping @Sendable () async throws -> String
    ) async throws -> Bool {
        try await Self.mapped(action: "UploadLayerPart", repository: repository, registry: registryName) {
            try await client.uploadArrivingBlob(repository: repository, name: name, open: open, digest: digest)
        }
        return true
    }

    func putManifest(_ manifest: ImageManifest, tag: String) async throws {
        do {
            try await Self.mapped(action: "PutImage", repository: repository, registry: registryName) {
                try await client.putManifest(repository: repository, reference: tag, bytes: manifest.bytes, mediaType: manifest.mediaType)
            }
        } catch RegistryError.tagInvalid(_, _, let message) {
            // ECR's answer for an immutable tag: fine if the tag already names exactly this manifest (a re-push).
            let existing = try await Self.mapped(action: "BatchGetImage", repository: repository, registry: registryName) {
                try await client.manifestDigest(repository: repository, reference: tag, accept: [manifest.mediaType])
            }
            if existing == manifest.digest { return }
            throw ECRPushError.imageTagExists(repository: repository, tag: tag, detail: existing.map { "it points at \($0)" } ?? message)
        }
    }

    /// Registry errors that ECRPushKit has words for become ECRPushError; others pass through.
    @discardableResult
    static func mapped<T>(action: String, repository: String, registry: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch RegistryError.nameUnknown {
            throw ECRPushError.repositoryMissing(repository: repository, registry: registry)
        } catch RegistryError.denied(_, _, let message, _) {
            throw ECRPushError.pushDenied(repository: repository, action: action, message: message)
        }
    }
}
