import Hashing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything the reader kept from the archive, by normalised path: small entries in memory, big or
/// tar-looking ones as gzip files in the scratch directory, links as their targets.
final class ArchiveEntryStore {
    enum Entry {
        case memory([UInt8])
        case blob(StoredBlob)
        /// A symlink's or hard link's target, already resolved to a normalised archive path.
        case link(String)
    }

    struct Settings {
        var compression: LayerCompression = .gzip
        var compressionLevel: Int
        var compressionThreads: Int
        var bufferSize: Int
        var inMemoryLimit: Int
        var knownLayers: KnownLayerSet = [:]
        var layerDiffIDs: [String] = []
        /// Layer entries at least this big (uncompressed) are announced to `onLayerStarted` as they start.
        var growingLayerMinimumSize: Int64 = .max
    }

    let scratch: ScratchDirectory
    let settings: Settings
    private(set) var entries: [String: Entry] = [:]
    /// Paths in archive order (for error messages that list what was there).
    private(set) var order: [String] = []
    private var blobsByArchiveDigest: [SHA256Digest: StoredBlob] = [:]
    private var blobCounter = 0
    private(set) var compressedBytesStored: Int64 = 0
    private let onLayerStored: (@Sendable (ExportedLayer) -> Void)?
    private let onLayerStarted: (@Sendable (GrowingLayer) -> Void)?
    /// Files announced through `onLayerStored`: someone may be reading them, so they stay until cleanup.
    private var announcedPaths: Set<String> = []
    /// Layers announced to `onLayerStarted`, abandoned if the export fails before they are complete.
    private var growingLayers: [GrowingLayer] = []

    init(
        scratch: ScratchDirectory, settings: Settings, onLayerStored: (@Sendable (ExportedLayer) -> Void)? = nil,
        onLayerStarted: (@Sendable (GrowingLayer) -> Void)? = nil
    ) {
        self.scratch = scratch
        self.settings = settings
        self.onLayerStored = onLayerStored
        self.onLayerStarted = onLayerStarted
    }

    /// Unblocks the readers of every layer still being written: the export failed or was cancelled.
    func abandonGrowingLayers(_ why: String) {
        for layer in growingLayers { layer.abandon(why) }
    }

    /// The tar reader's entry handler: decides what to keep of each entry.
    func consumer(for header: TarEntryHeader) throws -> (any TarEntryConsumer)? {
        let path = ArchivePath.normalize(header.path)
        guard !path.isEmpty else { return nil }
        switch header.kind {
        case .symbolicLink:
            record(path, .link(ArchivePath.resolveSymlink(at: path, target: header.linkTarget)))
            return nil
        case .hardLink:
            record(path, .link(ArchivePath.normalize(header.linkTarget)))
            return nil
        case .regular:
            if let writer = try knownLayerWriter(for: path) { return PendingEntry(path: path, size: header.size, store: self, writer: writer) }
            return PendingEntry(path: path, size: header.size, store: self)
        case .directory, .characterDevice, .blockDevice, .fifo, .other:
            return nil
        }
    }

    /// A legacy `<v1 id>/layer.tar` whose `json` (already read) names one of `knownLayers`: only hashed.
    private func knownLayerWriter(for path: String) throws -> KnownLayerWriter? {
        guard path.hasSuffix("/layer.tar") else { return nil }
        let knownLayers = try settings.knownLayers.waitForBlobs()
        guard !knownLayers.isEmpty else { return nil }
        let directory = String(path.dropLast("/layer.tar".count))
        guard case .memory(let json)? = entries[directory + "/json"],
            let index = LegacyLayerID.layerIndex(
                directoryName: String(directory.split(separator: "/").last ?? ""), json: json, diffIDs: settings.layerDiffIDs),
            let known = knownLayers[settings.layerDiffIDs[index]]
        else { return nil }
        return KnownLayerWriter(expectedDiffID: settings.layerDiffIDs[index], known: known, entryPath: path)
    }

    func record(_ path: String, _ entry: Entry) {
        if entries.updateValue(entry, forKey: path) == nil { order.append(path) }
    }

    /// The entry at `path`, following links (a duplicate layer in a legacy export is a symlink).
    func resolve(_ path: String) -> (path: String, entry: Entry)? {
        var current = ArchivePath.normalize(path)
        for _ in 0..<32 {
            guard let entry = entries[current] else { return nil }
            guard case .link(let target) = entry else { return (current, entry) }
            current = target
        }
        return nil  // a link loop
    }

    // MARK: - Blobs

    enum StreamKind {
        /// Compressed into a blob file; `layer` when its name or tar header says it is one (only those are
        /// announced before the archive ends: a big file of another kind waits for the layout to decide).
        case compress(layer: Bool)
        case passthroughGzip, memory, unusable(String)

        /// Whether the entry can be announced as a layer as soon as it is stored.
        var looksLikeLayer: Bool {
            switch self {
            case .compress(let layer): layer
            case .passthroughGzip: true
            case .memory, .unusable: false
            }
        }
    }

    /// Chooses how to keep a regular entry from its name, size and first bytes (up to 512).
    func kind(path: String, size: Int64, prefix: UnsafeRawBufferPointer) -> StreamKind {
        if prefix.count >= 2 && prefix[0] == 0x1f && prefix[1] == 0x8b { return .passthroughGzip }
        if let format = Self.unsupportedCompression(prefix), size > Int64(settings.inMemoryLimit) || path.hasSuffix("/layer.tar") {
            return .unusable("it is \(format)-compressed")
        }
        if Self.hasUstarMagic(prefix) || path.hasSuffix("/layer.tar") || path == "layer.tar" { return .compress(layer: true) }
        return size > Int64(settings.inMemoryLimit) ? .compress(layer: false) : .memory
    }

    static func hasUstarMagic(_ prefix: UnsafeRawBufferPointer) -> Bool {
        prefix.count >= 262 && prefix[257] == UInt8(ascii: "u") && prefix[258] == UInt8(ascii: "s")
            && prefix[259] == UInt8(ascii: "t") && prefix[260] == UInt8(ascii: "a") && prefix[261] == UInt8(ascii: "r")
    }

    /// Compression formats a Docker v2 schema 2 push can't carry as gzip layers without recompressing.
    static func unsupportedCompression(_ prefix: UnsafeRawBufferPointer) -> String? {
        if prefix.count >= 4 && prefix[0] == 0x28 && prefix[1] == 0xb5 && prefix[2] == 0x2f && prefix[3] == 0xfd { return "zstd" }
        if prefix.count >= 3 && prefix[0] == 0x42 && prefix[1] == 0x5a && prefix[2] == 0x68 { return "bzip2" }
        if prefix.count >= 6 && prefix[0] == 0xfd && prefix[1] == 0x37 && prefix[2] == 0x7a && prefix[3] == 0x58 { return "xz" }
        return nil
    }

    /// `entry` (the archive path and size) lets a big layer be announced to `onLayerStarted` as it starts.
    func makeWriter(_ kind: StreamKind, entry: (path: String, size: Int64)? = nil) throws -> any BlobWriter {
        blobCounter += 1
        let path = "\(scratch.path)/blob-\(blobCounter).gz"
        switch kind {
        case .unusable(let reason):
            return UnusableBlobWriter(reason: reason)
        case .passthroughGzip:
            return try PassthroughGzipBlobWriter(path: path, bufferSize: settings.bufferSize)
        case .compress, .memory:
            var growing: GrowingLayer?
            if case .compress(layer: true) = kind, let entry, entry.size >= settings.growingLayerMinimumSize, onLayerStarted != nil {
                growing = GrowingLayer(path: path, uncompressedSize: entry.size, compression: settings.compression, entryName: entry.path)
            }
            let writer = try CompressingBlobWriter(
                path: path, compression: settings.compression, level: settings.compressionLevel, threads: settings.compressionThreads,
                bufferSize: settings.bufferSize, growing: growing)
            if let growing, let onLayerStarted {
                growingLayers.append(growing)
                announcedPaths.insert(path)
                onLayerStarted(growing)
            }
            return writer
        }
    }

    /// Registers a finished blob. A blob with the same content as one stored earlier is dropped in favour
    /// of the earlier file, so identical layers are stored (and uploaded) once. `looksLikeLayer` (the entry
    /// is a tar or gzip stream) announces a new blob to `onLayerStored`.
    func adopt(_ blob: StoredBlob, looksLikeLayer: Bool = false) -> StoredBlob {
        if blob.path.isEmpty { return blob }
        // Same bytes in the archive (so same diffID, and same gzip when kept as is): keep the first file.
        if let existing = blobsByArchiveDigest[blob.archiveDigest], existing.sourceFormat == blob.sourceFormat {
            // A growing layer's upload may be reading the file: it goes with the scratch directory.
            if !announcedPaths.contains(blob.path) { removeFile(blob.path) }
            return existing
        }
        blobsByArchiveDigest[blob.archiveDigest] = blob
        compressedBytesStored += blob.compressedSize
        if looksLikeLayer, blob.unusableReason == nil, let onLayerStored {
            announcedPaths.insert(blob.path)
            onLayerStored(
                ExportedLayer(
                    digest: blob.compressedDigest.ociDigest, size: blob.compressedSize, diffID: blob.uncompressedDigest.ociDigest,
                    uncompressedSize: blob.uncompressedSize, mediaType: blob.compression.layerMediaType, path: blob.path))
        }
        return blob
    }

    /// Compresses an entry that was kept in memory but turned out to be a layer (a tiny or empty layer).
    func storeAsBlob(_ bytes: [UInt8]) throws -> StoredBlob {
        let kind: StreamKind = bytes.starts(with: [0x1f, 0x8b]) ? .passthroughGzip : .compress(layer: true)
        let writer = try makeWriter(kind)
        try bytes.withUnsafeBytes { try writer.write($0) }
        return adopt(try writer.complete())
    }

    /// Deletes every blob file not in `keep` (entries that turned out not to be layers).
    func removeBlobs(except keep: Set<String>) {
        let keep = keep.union(announcedPaths)
        for case .blob(let blob) in entries.values where !blob.path.isEmpty && !keep.contains(blob.path) {
            removeFile(blob.path)
        }
        for blob in blobsByArchiveDigest.values where !blob.path.isEmpty && !keep.contains(blob.path) {
            removeFile(blob.path)
        }
    }

    private func removeFile(_ path: String) {
        _ = path.withCString { unlink($0) }
    }
}
