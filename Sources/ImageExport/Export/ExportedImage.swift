/// An image read from a `docker save` stream, ready to push: the config as exported, and each layer as a
/// gzip file on disk with the digests a registry needs.
///
/// The layer files live in a temporary directory that is removed by `cleanup()`, or automatically once
/// the last copy of this value is gone: keep the value alive until the push is over.
package struct ExportedImage: Sendable {
    /// The image config, byte for byte as exported (pushed unchanged, so its digest stays the image ID).
    package let config: [UInt8]
    /// `sha256:<hex>` of `config`: the image ID.
    package let configDigest: String
    /// In the order of the config's `rootfs.diff_ids`. The same file may appear twice (an image may repeat
    /// a layer); upload each distinct digest once.
    package let layers: [ExportedLayer]
    /// The tags the archive carries for this image (`RepoTags`, or OCI name annotations).
    package let repoTags: [String]
    /// Which layout the archive used.
    package let layout: ArchiveLayout
    private let scratch: ScratchDirectory

    init(
        config: [UInt8], configDigest: String, layers: [ExportedLayer], repoTags: [String],
        layout: ArchiveLayout, scratch: ScratchDirectory
    ) {
        self.config = config
        self.configDigest = configDigest
        self.layers = layers
        self.repoTags = repoTags
        self.layout = layout
        self.scratch = scratch
    }

    /// The image ID, as `docker image inspect` shows it.
    package var imageID: String { configDigest }

    /// The directory holding the layer files.
    package var temporaryDirectory: String { scratch.path }

    /// Removes the layer files and their directory. The layers' paths are invalid afterwards.
    package func cleanup() { scratch.remove() }
}

/// One layer as a registry blob.
package struct ExportedLayer: Sendable, Hashable {
    /// `sha256:<hex>` of the gzip file: the blob digest to upload under.
    package let digest: String
    /// Bytes in the gzip file.
    package let size: Int64
    /// `sha256:<hex>` of the uncompressed tar (checked against the config's `rootfs.diff_ids`).
    package let diffID: String
    package let uncompressedSize: Int64
    /// `application/vnd.docker.image.rootfs.diff.tar.gzip`, or `application/vnd.oci.image.layer.v1.tar+zstd`.
    package let mediaType: String
    /// The gzip file.
    package let path: String

    package static let gzipMediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    package static let zstdMediaType = "application/vnd.oci.image.layer.v1.tar+zstd"

    package init(
        digest: String, size: Int64, diffID: String, uncompressedSize: Int64,
        mediaType: String = ExportedLayer.gzipMediaType, path: String
    ) {
        self.digest = digest
        self.size = size
        self.diffID = diffID
        self.uncompressedSize = uncompressedSize
        self.mediaType = mediaType
        self.path = path
    }
}

/// The two shapes of a `docker save` archive.
package enum ArchiveLayout: String, Sendable {
    /// Resolved through `manifest.json` (`docker save` of every Engine version; the only index before Engine 25).
    case dockerManifest
    /// Resolved through the OCI image layout's `index.json` (OCI archives without `manifest.json`).
    case ociIndex
}

/// A blob the destination already holds for a layer (a base image's), named in the manifest instead of one
/// compressed here.
package struct KnownBlob: Sendable, Equatable {
    package var digest: String
    package var size: Int64
    package var compression: LayerCompression

    package init(digest: String, size: Int64, compression: LayerCompression) {
        self.digest = digest
        self.size = size
        self.compression = compression
    }
}
