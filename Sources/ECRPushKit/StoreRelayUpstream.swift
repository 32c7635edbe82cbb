import ImageExport
import RegistryRelay
import Synchronization

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
    /// ready instead of waiting a round trip on the push's critical path. Where the destination lacks it, its upload
    /// is prepared then too (`ConfigUpload`).
    private let configCheck: (digest: String, size: Task<Int64?, Never>)?
    private let configUpload = ConfigUpload()

    init(
        store: any BlobStore, tags: [String], base: Task<[String: KnownLayer], Never>, configDigest: String? = nil,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) {
        (self.store, self.tags, self.base, self.onEvent) = (store, tags, base, onEvent)
        let configUpload = self.configUpload
        configCheck = configDigest.map { digest in
            let size = Task {
                // A failed check answers "absent": the Engine then sends the config's few bytes.
                let size = try? await store.size(of: digest)
                if size == nil { configUpload.prepareAhead(store) }
                return size
            }
            return (digest, size)
        }
    }

    func blobSize(_ digest: String) async throws -> Int64? {
        if let configCheck, digest == configCheck.digest {
            configUpload.checked()
            return await configCheck.size.value
        }
        if let layer = await base.value.values.first(where: { $0.digest == digest }) { return layer.size }
        return try await store.size(of: digest)
    }

    func uploadStarted() {
        if !configUpload.takePrepared() { store.prepareUpload() }
    }

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

/// The config's upload, prepared as soon as the destination says it lacks the config: the Engine sends the config
/// after every layer and after its check, so the first upload it starts once it has checked is the config's, and
/// finds its session open.
private final class ConfigUpload: Sendable {
    private let state = Mutex((checked: false, prepared: false))

    func prepareAhead(_ store: any BlobStore) {
        state.withLock { $0.prepared = true }
        store.prepareUpload()
    }

    /// The Engine asked about the config: its next upload is the config's.
    func checked() { state.withLock { $0.checked = true } }

    /// Whether the upload the Engine starts now was prepared already (once).
    func takePrepared() -> Bool {
        state.withLock { state in
            guard state.checked, state.prepared else { return false }
            state.prepared = false
            return true
        }
    }
}
