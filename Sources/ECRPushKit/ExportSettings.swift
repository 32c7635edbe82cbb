import Foundation
import ImageExport

/// How ecrpush reads, compresses and uploads an image itself (the `registry` and `ecr-api` transports alike).
package struct ExportSettings: Sendable {
    /// How layers are compressed (zstd makes the manifest an OCI one).
    package var compression: LayerCompression
    /// The level for `compression` (gzip 0-9, zstd 1-19).
    package var compressionLevel: Int
    /// Blobs uploaded at the same time (the image is still read from the Engine once).
    package var jobs: Int
    /// Compressed bytes that may wait in temporary files for their upload before reading the image pauses.
    package var temporarySpaceLimit: Int64
    /// Where the per-push temporary directory is made (nil: the system's, `$TMPDIR`).
    package var temporaryDirectoryParent: URL?
    /// Which blobs earlier pushes left in which registry (nil: always read and compress the image).
    package var blobCache: BlobDigestCache?
    /// Name the base image's blobs where the destination registry has them (`BaseLayers`); false: every layer is
    /// ecrpush's own compression, so the manifest depends only on the image and the level.
    package var reuseBaseLayers = true
    /// The Engine's push goes to ecrpush's relay on 127.0.0.1, which sends it on with ecrpush's login
    /// (`EngineRelayPush`); false: the Engine pushes to the registry itself, with the password (`--no-engine-relay`,
    /// `ECRPUSH_ENGINE_RELAY=0`).
    package var engineRelay = true
    /// Layers at least this big (uncompressed) are uploaded while they are compressed, where the store can
    /// (`BlobStore.uploadGrowing`): the upload follows the file as it grows, so the two overlap.
    package var growingLayerMinimumSize: Int64 = 16 << 20
    /// How long `auto` follows a base's copy from another registry before its rate decides whether ecrpush's push
    /// starts beside it (`TransportEstimate.Rates.copyProbeSeconds`; `ECRPUSH_COPY_PROBE_SECONDS`).
    package var copyProbeSeconds = TransportEstimate.Rates().copyProbeSeconds
    /// The link's upload rate to the registry, when the user knows it (`--upload-rate`): `auto` then counts the
    /// link's time in both pushes' estimates.
    package var uploadRate: UploadRate?
    /// How `auto` measures the link when `uploadRate` is not given and its choice depends on the link (nil: it does
    /// not, and takes the link to be fast; `ECRPUSH_LINK_PROBE=0`).
    package var linkProbe: LinkProbe? = LinkProbe()
    /// How soon the first connection opened during the login must be answered for `auto`, with the link still to be
    /// measured, to count the registry near and ask for the export ahead (`ExportAheadChoice`;
    /// `ECRPUSH_NEAR_REGISTRY_MS`).
    package var nearRegistryAnswer = ExportAheadChoice.nearRegistryAnswer

    package init(
        compression: LayerCompression = .gzip, compressionLevel: Int? = nil, jobs: Int = 4,
        temporarySpaceLimit: Int64 = EngineImageExport.defaultTemporarySpaceLimit,
        temporaryDirectoryParent: URL? = nil, blobCache: BlobDigestCache? = nil
    ) {
        self.compression = compression
        self.compressionLevel = compressionLevel ?? compression.defaultLevel
        self.jobs = jobs
        self.temporarySpaceLimit = temporarySpaceLimit
        self.temporaryDirectoryParent = temporaryDirectoryParent
        self.blobCache = blobCache
    }

    /// The blob cache's name for `registry` under this compression: gzip and zstd pushes are kept apart, as the
    /// same layer is a different blob in each.
    func cacheScope(_ registry: String) -> String {
        compression == .gzip ? registry : "\(registry) \(compression.rawValue)"
    }
}
