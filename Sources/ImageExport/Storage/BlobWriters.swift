import Hashing

/// What a streamed entry became on disk: a gzip file plus the digests a push needs.
struct StoredBlob: Sendable {
    enum SourceFormat: Sendable, Equatable {
        /// The archive held uncompressed bytes; we gzip-compressed them.
        case uncompressed
        /// The archive held gzip bytes; they were kept as they are.
        case gzip
    }

    let path: String
    /// SHA-256 of the uncompressed content (the layer's diffID).
    let uncompressedDigest: SHA256Digest
    let uncompressedSize: Int64
    /// SHA-256 and size of the gzip file.
    let compressedDigest: SHA256Digest
    let compressedSize: Int64
    let sourceFormat: SourceFormat
    /// How the file is compressed (a kept gzip entry is gzip whatever ecrpush was asked to use).
    var compression: LayerCompression = .gzip
    /// Why this entry cannot be a layer (corrupt gzip, zstd); then `uncompressedDigest` is only a hash of the
    /// entry's bytes and the file may be absent.
    let unusableReason: String?

    /// The digest of the entry's bytes as they were in the archive (what `blobs/sha256/<hex>` names).
    var archiveDigest: SHA256Digest {
        sourceFormat == .gzip ? compressedDigest : uncompressedDigest
    }
}

/// Receives an entry's bytes and leaves a gzip file behind; `complete()` closes it and returns the digests.
protocol BlobWriter: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
    func complete() throws -> StoredBlob
}

/// One pass over uncompressed bytes: hash them (diffID), compress them (on worker threads: compression is
/// the slowest step by far), hash and write the compressed output in order.
final class CompressingBlobWriter: BlobWriter {
    private let file: BlobFile
    private let compression: LayerCompression
    private let compressor: any LayerCompressor
    private var uncompressedHash = SHA256()
    private var compressedHash = SHA256()
    /// Told how much of the file is written, then its digests (its upload may already be reading it).
    private let growing: GrowingLayer?

    init(path: String, compression: LayerCompression, level: Int, threads: Int, bufferSize: Int, growing: GrowingLayer? = nil) throws {
        self.compression = compression
        switch compression {
        case .gzip: compressor = try ParallelGzipCompressor(level: level, threads: threads)
        case .zstd: compressor = try ZstdCompressor(level: level, threads: threads)
        }
        file = try BlobFile(creating: path, bufferSize: bufferSize)
        self.growing = growing
        if let growing { file.onWritten = { [compressor] in growing.wrote(total: $0, consumed: compressor.bytesIn) } }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        uncompressedHash.update(bytes)
        try compressor.compress(bytes, sink: store)
    }

    func complete() throws -> StoredBlob {
        try compressor.finish(sink: store)
        try file.close()
        let blob = StoredBlob(
            path: file.path, uncompressedDigest: uncompressedHash.currentDigest(), uncompressedSize: compressor.bytesIn,
            compressedDigest: compressedHash.currentDigest(), compressedSize: compressor.bytesOut,
            sourceFormat: .uncompressed, compression: compression, unusableReason: nil)
        growing?.complete(
            .init(digest: blob.compressedDigest.ociDigest, size: blob.compressedSize, diffID: blob.uncompressedDigest.ociDigest))
        return blob
    }

    private func store(_ compressed: UnsafeRawBufferPointer) throws {
        compressedHash.update(compressed)
        try file.write(compressed)
    }
}

/// Keeps gzip bytes as they are (no recompression), hashing them, and inflates them on the side only to
/// learn the uncompressed digest that the config's diff_ids are checked against.
final class PassthroughGzipBlobWriter: BlobWriter {
    private let file: BlobFile
    private var decompressor: GzipDecompressor?
    private var compressedHash = SHA256()
    private var uncompressedHash = SHA256()
    private var compressedSize: Int64 = 0
    private var uncompressedSize: Int64 = 0
    private var failure: String?

    init(path: String, bufferSize: Int) throws {
        file = try BlobFile(creating: path, bufferSize: bufferSize)
        decompressor = try GzipDecompressor(bufferSize: bufferSize)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        compressedHash.update(bytes)
        compressedSize += Int64(bytes.count)
        try file.write(bytes)
        guard let decompressor else { return }
        do {
            try decompressor.decompress(bytes) { uncompressed in
                uncompressedHash.update(uncompressed)
                uncompressedSize += Int64(uncompressed.count)
            }
        } catch {
            // Not fatal here: the entry may not be a layer at all. It is, the layout check reports it.
            failure = "\(error)"
            self.decompressor = nil
        }
    }

    func complete() throws -> StoredBlob {
        try file.close()
        if failure == nil, let decompressor {
            do { try decompressor.finish() } catch { failure = "\(error)" }
        }
        return StoredBlob(
            path: file.path, uncompressedDigest: uncompressedHash.currentDigest(), uncompressedSize: uncompressedSize,
            compressedDigest: compressedHash.currentDigest(), compressedSize: compressedSize,
            sourceFormat: .gzip, unusableReason: failure)
    }
}

/// For content that can't become a gzip layer (zstd): hashes it, so a content-addressed name can still be
/// checked, and stores nothing. The layout check reports `reason` if a layer turns out to be this entry.
final class UnusableBlobWriter: BlobWriter {
    private let reason: String
    private var hash = SHA256()
    private var size: Int64 = 0

    init(reason: String) {
        self.reason = reason
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        hash.update(bytes)
        size += Int64(bytes.count)
    }

    func complete() throws -> StoredBlob {
        let digest = hash.currentDigest()
        return StoredBlob(
            path: "", uncompressedDigest: digest, uncompressedSize: size, compressedDigest: digest, compressedSize: size,
            sourceFormat: .uncompressed, unusableReason: reason)
    }
}

/// A layer the destination already holds under a known blob: its bytes are only hashed, to check that they are
/// the layer the directory's name promised (`LegacyLayerID`); nothing is compressed or written. The result names
/// the known blob, without a file.
final class KnownLayerWriter: BlobWriter {
    private let expectedDiffID: String
    private let known: KnownBlob
    private let entryPath: String
    private var hash = SHA256()
    private var size: Int64 = 0

    init(expectedDiffID: String, known: KnownBlob, entryPath: String) {
        self.expectedDiffID = expectedDiffID
        self.known = known
        self.entryPath = entryPath
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        hash.update(bytes)
        size += Int64(bytes.count)
    }

    func complete() throws -> StoredBlob {
        let actual = hash.currentDigest()
        guard actual.ociDigest == expectedDiffID, let digest = Hex.decode(String(known.digest.dropFirst("sha256:".count))), digest.count == 32
        else {
            throw ImageExportError.layerPredictionFailed(path: entryPath, predicted: expectedDiffID, actual: actual.ociDigest)
        }
        return StoredBlob(
            path: "", uncompressedDigest: actual, uncompressedSize: size, compressedDigest: SHA256Digest(bytes: digest),
            compressedSize: known.size, sourceFormat: .uncompressed, compression: known.compression, unusableReason: nil)
    }
}
