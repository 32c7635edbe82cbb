import Hashing

/// A manifest as the exact bytes to push; its digest is the SHA-256 of exactly these bytes.
package struct ImageManifest: Sendable, Equatable {
    package let bytes: [UInt8]
    package let mediaType: String
    /// `sha256:<hex>` of `bytes`.
    package let digest: String

    /// A manifest as another tool wrote it (the Engine's push through ecrpush's relay): its digest computed here.
    package init(bytes: [UInt8], mediaType: String) {
        self.bytes = bytes
        self.mediaType = mediaType
        self.digest = SHA256.hash(bytes).ociDigest
    }

    init(bytes: [UInt8], mediaType: String, digest: String) {
        (self.bytes, self.mediaType, self.digest) = (bytes, mediaType, digest)
    }

    package static let dockerV2MediaType = "application/vnd.docker.distribution.manifest.v2+json"
    package static let dockerConfigMediaType = "application/vnd.docker.container.image.v1+json"
    package static let ociManifestMediaType = "application/vnd.oci.image.manifest.v1+json"
    package static let ociConfigMediaType = "application/vnd.oci.image.config.v1+json"
    package static let ociGzipLayerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip"

    /// The manifest naming these blobs: Docker's v2 schema 2 when every layer is gzip (what every tool reads),
    /// else an OCI image manifest (zstd layers exist only there; gzip layers then get OCI's gzip type).
    /// Compact JSON with a fixed key order (schemaVersion, mediaType, config, layers; each descriptor
    /// mediaType, size, digest), so the same blobs always give the same bytes and digest, whether they were
    /// just exported or remembered.
    package static func forImage(
        configDigest: String, configSize: Int64,
        layers: [(digest: String, size: Int64, mediaType: String)]
    ) -> ImageManifest {
        let docker = layers.allSatisfy { $0.mediaType == ExportedLayer.gzipMediaType }
        func descriptor(mediaType: String, size: Int64, digest: String) -> String {
            "{\"mediaType\":\(jsonString(mediaType)),\"size\":\(size),\"digest\":\(jsonString(digest))}"
        }
        let config = descriptor(mediaType: docker ? dockerConfigMediaType : ociConfigMediaType, size: configSize, digest: configDigest)
        let layers = layers.map { layer in
            let mediaType = !docker && layer.mediaType == ExportedLayer.gzipMediaType ? ociGzipLayerMediaType : layer.mediaType
            return descriptor(mediaType: mediaType, size: layer.size, digest: layer.digest)
        }
        let mediaType = docker ? dockerV2MediaType : ociManifestMediaType
        let text =
            "{\"schemaVersion\":2,\"mediaType\":\(jsonString(mediaType)),"
            + "\"config\":\(config),\"layers\":[\(layers.joined(separator: ","))]}"
        let bytes = Array(text.utf8)
        return ImageManifest(bytes: bytes, mediaType: mediaType, digest: SHA256.hash(bytes).ociDigest)
    }
}

extension ExportedImage {
    /// The manifest for this image (see `ImageManifest.forImage`): Docker v2 schema 2 for gzip layers.
    package func manifest() -> ImageManifest {
        ImageManifest.forImage(
            configDigest: configDigest, configSize: Int64(config.count),
            layers: layers.map { ($0.digest, $0.size, $0.mediaType) })
    }
}

/// A JSON string literal (digests and media types never need escaping, but nothing here assumes so).
func jsonString(_ value: String) -> String {
    var out = "\""
    for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
