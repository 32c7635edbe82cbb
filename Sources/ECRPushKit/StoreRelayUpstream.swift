import ImageExport
import RegistryRelay

/// The relay's destination: one repository through either store (`registry` or `ecr-api`), under the push's tags.
/// Blob checks first wait for the base's layers to be got into the repository (`base`: mounted or copied while the
/// Engine starts its push), so that the Engine skips every layer the base gave the image.
struct StoreRelayUpstream: RelayUpstream {
    let store: any BlobStore
    let tags: [String]
    let base: Task<[String: KnownLayer], Never>
    let onEvent: @Sendable (WorkflowEvent) -> Void
    /// The config's check, asked ahead (`RelayConfigCheck`).
    let config: RelayConfigCheck?

    /// `config`: a check made for this repository already (shared with the relay's earlier destination), else one
    /// for `configDigest` starts now.
    init(
        store: any BlobStore, tags: [String], base: Task<[String: KnownLayer], Never>, configDigest: String? = nil,
        config: RelayConfigCheck? = nil, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) {
        (self.store, self.tags, self.base, self.onEvent) = (store, tags, base, onEvent)
        self.config = config ?? configDigest.map { RelayConfigCheck(digest: $0, store: store) }
    }

    func blobSize(_ digest: String) async throws -> Int64? {
        if let config, digest == config.digest { return await config.answer() }
        if let layer = await base.value.values.first(where: { $0.digest == digest }) { return layer.size }
        return try await store.size(of: digest)
    }

    func uploadStarted() {
        if config?.takePrepared() != true { store.prepareUpload() }
    }

    func relayStopped() async {
        config?.cancel()
        await store.discardPreparedUploads()
    }

    func uploadArriving(_ upload: RelayUpload) async throws -> Bool {
        do {
            return try await store.uploadArriving(
                name: "a blob the Engine is pushing", open: { try upload.openReader() }, digest: { try await upload.digest() })
        } catch let error as ECRPushError {
            // Denied, or no such repository: sending the blob whole would be refused alike.
            throw error
        } catch {
            // The Engine gave the upload up, or the relay stopped: nothing to tell.
            guard !Task.isCancelled, (try? await upload.digest()) != nil else { return false }
            onEvent(.info("A blob could not be sent on as the Engine pushed it (\(error)); sending it whole"))
            return false
        }
    }

    func uploadBlob(digest: String, size: Int64, path: String) async throws {
        let onEvent = self.onEvent
        try await store.upload(PreparedBlob(digest: digest, size: size, source: .file(path)), progress: { _ in }) { onEvent(.info($0)) }
    }

    func putManifest(bytes: [UInt8], mediaType: String, digest: String) async throws {
        let manifest = ImageManifest(bytes: bytes, mediaType: mediaType)
        for tag in tags {
            onEvent(.tagging(tag))
            try await store.putManifest(manifest, tag: tag)
            onEvent(.tagged(tag))
        }
    }
}
