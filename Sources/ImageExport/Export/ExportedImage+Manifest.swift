import Hashing

/// A manifest as the exact bytes to push; its digest is the SHA-256 of exactly these bytes.
public struct ImageManifest: Sendable, Equatable {
    public let bytes: [UInt8]
    public let mediaType: String
    /// `sha256:<hex>` of `bytes`.
    public let digest: String

    public static let dockerV2MediaType = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfigMediaType = "application/vnd.docker.container.image.v1+json"

    /// The Docker image manifest v2 schema 2 naming these blobs: compact JSON with a fixed key order
    /// (schemaVersion, mediaType, config, layers; each descriptor mediaType, size, digest), so the same
    /// blobs always give the same bytes and digest, whether they were just exported or remembered.
    public static func docker(configDigest: String, configSize: Int64,
                              layers: [(digest: String, size: Int64, mediaType: String)]) -> ImageManifest {
        func descriptor(mediaType: String, size: Int64, digest: String) -> String {
            "{\"mediaType\":\(jsonString(mediaType)),\"size\":\(size),\"digest\":\(jsonString(digest))}"
        }
        let config = descriptor(mediaType: dockerConfigMediaType, size: configSize, digest: configDigest)
        let layers = layers.map { descriptor(mediaType: $0.mediaType, size: $0.size, digest: $0.digest) }
        let text = "{\"schemaVersion\":2,\"mediaType\":\(jsonString(dockerV2MediaType)),"
            + "\"config\":\(config),\"layers\":[\(layers.joined(separator: ","))]}"
        let bytes = Array(text.utf8)
        return ImageManifest(bytes: bytes, mediaType: dockerV2MediaType, digest: SHA256.hash(bytes).ociDigest)
    }
}

extension ExportedImage {
    /// The Docker image manifest v2 schema 2 for this image (see `ImageManifest.docker`).
    public func dockerManifest() -> ImageManifest {
        ImageManifest.docker(configDigest: configDigest, configSize: Int64(config.count),
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
