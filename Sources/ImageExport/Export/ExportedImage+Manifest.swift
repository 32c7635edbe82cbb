import Hashing

/// A manifest as the exact bytes to push; its digest is the SHA-256 of exactly these bytes.
public struct ImageManifest: Sendable, Equatable {
    public let bytes: [UInt8]
    public let mediaType: String
    /// `sha256:<hex>` of `bytes`.
    public let digest: String

    public static let dockerV2MediaType = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfigMediaType = "application/vnd.docker.container.image.v1+json"
}

extension ExportedImage {
    /// The Docker image manifest v2 schema 2 for this image: compact JSON with a fixed key order
    /// (schemaVersion, mediaType, config, layers; each descriptor mediaType, size, digest), so the same
    /// image always gives the same bytes and digest.
    public func dockerManifest() -> ImageManifest {
        func descriptor(mediaType: String, size: Int64, digest: String) -> String {
            "{\"mediaType\":\(jsonString(mediaType)),\"size\":\(size),\"digest\":\(jsonString(digest))}"
        }
        let config = descriptor(mediaType: ImageManifest.dockerConfigMediaType, size: Int64(self.config.count), digest: configDigest)
        let layers = layers.map { descriptor(mediaType: $0.mediaType, size: $0.size, digest: $0.digest) }
        let text = "{\"schemaVersion\":2,\"mediaType\":\(jsonString(ImageManifest.dockerV2MediaType)),"
            + "\"config\":\(config),\"layers\":[\(layers.joined(separator: ","))]}"
        let bytes = Array(text.utf8)
        return ImageManifest(bytes: bytes, mediaType: ImageManifest.dockerV2MediaType, digest: SHA256.hash(bytes).ociDigest)
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
