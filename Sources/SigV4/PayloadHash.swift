import Hashing

/// What the canonical request says about the body.
package enum PayloadHash: Sendable {
    /// The body itself; its SHA-256 is computed when signing.
    case bytes([UInt8])
    /// Hex SHA-256 computed elsewhere, e.g. while streaming a layer from disk.
    case precomputed(String)
    /// `UNSIGNED-PAYLOAD`: the body is not covered by the signature (presigned URLs, S3 over TLS).
    case unsigned

    /// The hash of an empty body.
    package static let empty: PayloadHash = .precomputed(SHA256.hash([UInt8]()).hex)

    /// The value that goes on the last line of the canonical request (and in `x-amz-content-sha256`).
    package var hexValue: String {
        switch self {
        case .bytes(let body): return SHA256.hash(body).hex
        case .precomputed(let hex): return hex.lowercased()
        case .unsigned: return "UNSIGNED-PAYLOAD"
        }
    }
}
