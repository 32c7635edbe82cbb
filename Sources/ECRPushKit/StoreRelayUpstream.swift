import ImageExport
import RegistryRelay
import Synchronization

/// The relay's destination: one repository through either store (`registry` or `ecr-api`), under the push's tags.
/// Blob checks first wait for the base's layers to be got into the repository (`base`: mounted or copied while the
/// Engine starts its push), so that the Engine skips every layer the base gave the image.
final class StoreRelayUpstream: RelayUpstream {
    let store: any BlobStore
    let tags: [String]
    let base: Task<[String: KnownLayer], Never>
    /// The image's config blob (its ID, with the Engine's own image store), which the Engine checks for last, just
    /// before the manifest. Its check is answered "absent" at once and asked of the destination meanwhile: the
    /// Engine then sends the few bytes of the config to the relay, which sends them on only if the destination
    /// lacks them. The check's round trip to the destination leaves the push's critical path.
    let configDigest: String?
    let onEvent: @Sendable (WorkflowEvent) -> Void
    private let configCheck = Mutex<Task<Int64?, any Error>?>(nil)

    init(
        store: any BlobStore, tags: [String], base: Task<[String: KnownLayer], Never>, configDigest: String? = nil,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) {
        (self.store, self.tags, self.base, self.configDigest, self.onEvent) = (store, tags, base, configDigest, onEvent)
    }

    func blobSize(_ digest: String) async throws -> Int64? {
        if let layer = await base.value.values.first(where: { $0.digest == digest }) { return layer.size }
        if digest == configDigest {
            let store = self.store
            configCheck.withLock { check in
                if check == nil { check = Task { try await store.size(of: digest) } }
            }
            return nil
        }
        return try await store.size(of: digest)
    }

    func uploadStarted() { store.prepareUpload() }

    func uploadBlob(digest: String, size: Int64, path: String) async throws {
        // A config the destination already holds (its check failed: sent anyway).
        if digest == configDigest, let check = configCheck.withLock({ $0 }), (try? await check.value) == size { return }
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
