internal import CCryptoShim

/// A SHA-256 digest: 32 bytes, shown as lowercase hex.
package struct SHA256Digest: Sendable, Hashable, CustomStringConvertible {
    package let bytes: [UInt8]

    package init(bytes: [UInt8]) {
        precondition(bytes.count == 32, "a SHA-256 digest is 32 bytes")
        self.bytes = bytes
    }

    package var hex: String { Hex.encode(bytes) }
    /// The OCI form, `sha256:<hex>`.
    package var ociDigest: String { "sha256:" + hex }
    package var description: String { ociDigest }
}

/// SHA-256 over libcrypto, one-shot or incremental (for layers hashed while they stream).
package struct SHA256: ~Copyable {
    private let context: OpaquePointer

    package init() {
        guard let context = ecr_sha256_new() else { fatalError("libcrypto could not allocate a SHA-256 context") }
        self.context = context
    }

    deinit { ecr_sha256_free(context) }

    package mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        precondition(ecr_sha256_update(context, base, buffer.count) == 1, "libcrypto SHA-256 update failed")
    }

    package mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    package mutating func update(_ string: String) {
        var copy = string
        copy.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The digest of everything so far; the hasher can keep being updated.
    package func currentDigest() -> SHA256Digest {
        guard let copy = ecr_sha256_copy(context) else { fatalError("libcrypto could not copy a SHA-256 context") }
        defer { ecr_sha256_free(copy) }
        var out = [UInt8](repeating: 0, count: 32)
        precondition(ecr_sha256_final(copy, &out) == 1, "libcrypto SHA-256 final failed")
        return SHA256Digest(bytes: out)
    }

    package consuming func finalize() -> SHA256Digest {
        currentDigest()
    }

    package static func hash(_ buffer: UnsafeRawBufferPointer) -> SHA256Digest {
        var out = [UInt8](repeating: 0, count: 32)
        let ok = ecr_sha256(buffer.baseAddress, buffer.count, &out)
        precondition(ok == 1, "libcrypto SHA-256 failed")
        return SHA256Digest(bytes: out)
    }

    package static func hash(_ bytes: [UInt8]) -> SHA256Digest {
        bytes.withUnsafeBytes { hash($0) }
    }

    package static func hash(_ string: String) -> SHA256Digest {
        hash(Array(string.utf8))
    }
}

/// A SHA-256 hasher that can be shared and captured by `@Sendable` closures (used from one thread at a time).
package final class SHA256Accumulator: @unchecked Sendable {
    private var hasher = SHA256()
    package private(set) var byteCount: Int64 = 0

    package init() {}

    package func update(_ buffer: UnsafeRawBufferPointer) {
        hasher.update(buffer)
        byteCount += Int64(buffer.count)
    }

    package func digest() -> SHA256Digest { hasher.currentDigest() }
}
