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
    /// The destination's answer for the image's config blob (`configDigest`: its ID, with the Engine's own image
    /// store), asked at once: the Engine checks for the config last, just before the manifest, and finds the answer
    /// ready instead of waiting a round trip on the push's critical path.
    private let configCheck: (digest: String, size: Task<Int64?, Never>)?

    init(
        store: any BlobStore, tags: [String], base: Task<[String: KnownLayer], Never>, configDigest: String? = nil,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) {
        (self.store, self.tags, self.base, self.onEvent) = (store, tags, base, onEvent)
        // A failed check answers "absent": the Engine then sends the config's few bytes.
        configCheck = configDigest.map { digest in (digest, Task { try? await store.size(of: digest) }) }
    }

    func blobSize(_ digest: String) async throws -> Int64? {
        if let configCheck, digest == configCheck.digest { return await configCheck.size.value }
        if let layer = await base.value.values.first(where: { $0.digest == digest }) { return layer.size }
        return try await store.size(of: digest)
    }

    func uploadStarted() { store.prepareUpload() }

    func relayStopped() async {
        configCheck?.size.cancel()
        await store.discardPreparedUploads()
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
