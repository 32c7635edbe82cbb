import ImageExport
import RegistryClient

/// Where ecrpush's own transports put an image: one repository's blobs and manifests, through the distribution
/// API (`RegistryBlobStore`, the `registry` transport) or ECR's own API (`ECRBlobStore`, `ecr-api`). `BlobPush` is
/// the one push workflow over either; `BaseLayers` fills either with a base image's blobs.
protocol BlobStore: Sendable {
    /// The repository, in its registry.
    var repository: String { get }
    /// `registry/repository`, for messages.
    var place: String { get }
    /// Those of `digests` the repository has.
    func existing(_ digests: [String]) async throws -> Set<String>
    /// The blob's size when the repository has it, else nil.
    func size(of digest: String) async throws -> Int64?
    /// Links `digest` from `source`, another repository of the same registry; false when refused or unsupported.
    func mount(_ digest: String, from source: String) async throws -> Bool
    /// `mount`, with the upload session a refused mount opened (for `copyWithinRegistry` to send the layer on).
    func mountKeepingSession(_ digest: String, from source: String) async throws -> MountAnswer
    /// Copies a layer from another registry as it is stored there (same digest); false when this store cannot.
    func copy(
        _ layer: KnownLayer, from source: RegistryClient, repository: String, progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool
    /// Copies a layer from another repository of the same registry where it cannot be mounted (ECR's API has no
    /// mount; ECR's registry mounts only where the account enabled blob mounting); false when this store cannot
    /// (the extension's default).
    func copyWithinRegistry(
        _ layer: KnownLayer, from repository: String, session: String?, progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool
    /// Uploads a prepared blob; `onInfo` hears of retries and resumed uploads.
    func upload(_ blob: PreparedBlob, progress: @escaping @Sendable (Int64) -> Void, onInfo: @escaping @Sendable (String) -> Void) async throws
    /// Whether `uploadGrowing` can send a layer while it is compressed (the extension's default: no).
    var uploadsGrowingLayers: Bool { get }
    /// Uploads a layer while it is still being compressed (see the extension's default: false, not supported).
    func uploadGrowing(
        _ layer: GrowingLayer, progress: @escaping @Sendable (Int64) -> Void, onInfo: @escaping @Sendable (String) -> Void
    ) async -> Bool
    /// Uploads a blob whose bytes are still arriving (the Engine's upload to ecrpush's relay): `open` gives a
    /// reader from the first byte (called again to start over), `digest` names the blob once whole. False when this
    /// store cannot (the extension's default); nothing is kept when `digest` throws.
    func uploadArriving(
        name: String, open: @escaping @Sendable () throws -> @Sendable (UnsafeMutableRawBufferPointer) throws -> Int,
        digest: @escaping @Sendable () async throws -> String
    ) async throws -> Bool
    /// Prepares for an upload about to come (`RegistryBlobStore` opens its session now); returns at once.
    func prepareUpload()
    /// Gives up what `prepareUpload` prepared and no upload used.
    func discardPreparedUploads() async
    /// Makes `tag` name the manifest; fine when it already does (a re-push to an immutable tag).
    func putManifest(_ manifest: ImageManifest, tag: String) async throws
}

extension BlobStore {
    var uploadsGrowingLayers: Bool { false }

    func prepareUpload() {}

    func uploadArriving(
        name: String, open: @escaping @Sendable () throws -> @Sendable (UnsafeMutableRawBufferPointer) throws -> Int,
        digest: @escaping @Sendable () async throws -> String
    ) async throws -> Bool {
        false
    }

    func discardPreparedUploads() async {}

    func copyWithinRegistry(
        _ layer: KnownLayer, from repository: String, session: String?, progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool { false }

    func mountKeepingSession(_ digest: String, from source: String) async throws -> MountAnswer {
        try await mount(digest, from: source) ? .mounted : .refused(session: nil)
    }

    /// Uploads a layer while it is still being compressed, following its file as it grows; false when this store
    /// cannot, or the upload failed (the finished file is then uploaded with `upload`). `onInfo` hears why.
    func uploadGrowing(
        _ layer: GrowingLayer, progress: @escaping @Sendable (Int64) -> Void, onInfo: @escaping @Sendable (String) -> Void
    ) async -> Bool {
        false
    }
}
