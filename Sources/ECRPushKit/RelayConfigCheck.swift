import Synchronization

/// The destination's answer for the image's config blob (its digest: the image's ID, with the Engine's own image
/// store), asked as soon as the repository is known: the Engine checks for the config last, just before the
/// manifest, and finds the answer ready instead of waiting a round trip on the push's critical path. Where the
/// destination lacks the config, its upload is prepared then too. One check serves the relay's destination for
/// uploads (named before the push's choice) and the one for every call (named after it).
final class RelayConfigCheck: Sendable {
    let digest: String
    private let size: Task<Int64?, Never>
    private let upload = UploadState()

    /// Whether the Engine asked about the config, and whether the config's upload is prepared (not yet taken).
    private final class UploadState: Sendable {
        let state = Mutex((checked: false, prepared: false))
    }

    init(digest: String, store: any BlobStore) {
        self.digest = digest
        let upload = self.upload
        size = Task {
            // A failed check answers "absent": the Engine then sends the config's few bytes.
            let size = try? await store.size(of: digest)
            if size == nil {
                upload.state.withLock { $0.prepared = true }
                store.prepareUpload()
            }
            return size
        }
    }

    /// The destination's answer. The Engine asked about the config: the next upload it starts is the config's.
    func answer() async -> Int64? {
        upload.state.withLock { $0.checked = true }
        return await size.value
    }

    /// Whether the upload the Engine starts now is the config's, prepared already (once).
    func takePrepared() -> Bool {
        upload.state.withLock { state in
            guard state.checked, state.prepared else { return false }
            state.prepared = false
            return true
        }
    }

    func cancel() { size.cancel() }
}
