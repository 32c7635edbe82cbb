import Foundation
import Synchronization

/// Turns a `docker save` stream (legacy or OCI layout) into an `ExportedImage` while it streams.
///
/// Feed it the archive's bytes in chunks of any size (`feed`), from any one thread at a time (the HTTP
/// transfer thread, typically: each call blocks while the chunk is hashed and compressed, which is the
/// backpressure). Every entry that could be a layer is hashed and gzip-compressed into a temporary file in
/// the same pass; small JSON entries stay in memory. `finish()` then resolves the layout, checks each
/// layer against the config's diff_ids and returns the image, which owns the temporary files from then on.
///
/// On any error, and on `cancel()` or when released unfinished, the reader removes everything it wrote.
package final class ImageExportReader: @unchecked Sendable {
    package struct Options: Sendable {
        /// How layers that arrive uncompressed are compressed (layers that arrive as gzip stay as they are).
        package var compression: LayerCompression
        /// The level for `compression` (`LayerCompression.levels`; gzip 0 stores, 9 is smallest); by default the
        /// compression's own `defaultLevel`.
        package var compressionLevel: Int
        /// Cores to compress on (1: on the feeding thread). The compressed bytes, and so the digests, are the
        /// same whatever this is.
        package var compressionThreads: Int
        /// Where the per-export temporary directory is created (nil: the system temporary directory).
        package var temporaryDirectoryParent: URL?
        /// Which image to take when the archive holds several (a `RepoTags` entry or OCI image name).
        /// Ignored when there is only one.
        package var reference: String?
        /// "os/architecture[/variant]" to pick from a multi-platform index (nil: this machine's, linux).
        package var platform: String?
        /// Entries up to this size that don't look like layers stay in memory; bigger ones go to disk.
        package var inMemoryLimit: Int
        /// Size of the buffers that gather file writes (and of the gzip decompressor's output).
        package var bufferSize: Int
        /// Called on the feeding thread as soon as an entry that looks like a layer (a tar or gzip stream) is
        /// complete on disk, before the rest of the archive has arrived, so its upload can start early. Each
        /// distinct content is announced once. The file stays until the image's cleanup (or the reader's
        /// failure); `finish()` still decides which entries are layers: one announced here may turn out not
        /// to be (then nothing references it).
        package var onLayerStored: (@Sendable (ExportedLayer) -> Void)?
        /// Called on the feeding thread when a layer entry of at least `growingLayerMinimumSize` uncompressed bytes
        /// starts to be compressed: its upload may follow the file as it grows. `onLayerStored` still announces
        /// it once complete. Every one is completed, or abandoned if the export fails or is cancelled.
        package var onLayerStarted: (@Sendable (GrowingLayer) -> Void)?
        package var growingLayerMinimumSize: Int64 = 16 << 20
        /// Layers the destination already holds, by diffID, under the blob to name for them: in a legacy
        /// `docker save` stream they are recognised before their bytes arrive (`LegacyLayerID`), hashed to check,
        /// and neither compressed nor stored. Needs `layerDiffIDs`. A pending set makes the first layer entry wait.
        package var knownLayers: KnownLayerSet = [:]
        /// The image's diffIDs, in order (the Engine's `RootFS.Layers`), to recognise `knownLayers`.
        package var layerDiffIDs: [String] = []

        package init(
            compressionLevel: Int? = nil,
            compressionThreads: Int = ProcessInfo.processInfo.activeProcessorCount, temporaryDirectoryParent: URL? = nil,
            reference: String? = nil, platform: String? = nil, inMemoryLimit: Int = 1 << 20,
            bufferSize: Int = GzipDecompressor.defaultBufferSize,
            onLayerStored: (@Sendable (ExportedLayer) -> Void)? = nil, compression: LayerCompression = .gzip
        ) {
            self.onLayerStored = onLayerStored
            self.compression = compression
            // nil: the default of the compression chosen, not gzip's for zstd.
            self.compressionLevel = compressionLevel ?? compression.defaultLevel
            self.compressionThreads = compressionThreads
            self.temporaryDirectoryParent = temporaryDirectoryParent
            self.reference = reference
            self.platform = platform
            self.inMemoryLimit = inMemoryLimit
            self.bufferSize = bufferSize
        }
    }

    /// Counters another thread may read while the stream is being fed.
    package struct Progress: Sendable, Equatable {
        /// Archive bytes fed so far.
        package var bytesRead: Int64
        /// Compressed bytes written to temporary files so far (finished blobs only).
        package var bytesStored: Int64
    }

    private enum State {
        case reading(TarStreamReader, ArchiveEntryStore)
        case finished
        case failed(ImageExportError)
        case cancelled
    }

    private let lock = NSLock()
    private var state: State
    private let options: Options
    private let bytesRead = Atomic<Int64>(0)
    private let bytesStored = Atomic<Int64>(0)
    /// The per-export temporary directory (gone after a failure, a cancel, or the image's cleanup).
    package let temporaryDirectory: String

    package init(options: Options = Options()) throws {
        guard options.compression.levels.contains(options.compressionLevel) else {
            throw ImageExportError.invalidCompressionLevel(options.compressionLevel, options.compression)
        }
        self.options = options
        let scratch = try ScratchDirectory(parent: options.temporaryDirectoryParent)
        temporaryDirectory = scratch.path
        let store = ArchiveEntryStore(
            scratch: scratch,
            settings: .init(
                compression: options.compression, compressionLevel: options.compressionLevel, compressionThreads: options.compressionThreads,
                bufferSize: options.bufferSize, inMemoryLimit: options.inMemoryLimit, knownLayers: options.knownLayers,
                layerDiffIDs: options.layerDiffIDs, growingLayerMinimumSize: options.growingLayerMinimumSize),
            onLayerStored: options.onLayerStored, onLayerStarted: options.onLayerStarted)
        let tar = TarStreamReader(metadataLimit: max(options.inMemoryLimit, TarStreamReader.defaultMetadataLimit)) { header in
            try store.consumer(for: header)
        }
        state = .reading(tar, store)
    }

    deinit {
        // Released without finishing: nothing else will ever use the files.
        if case .reading(_, let store) = state {
            store.abandonGrowingLayers("the export was abandoned")
            store.scratch.remove()
        }
    }

    package var progress: Progress {
        Progress(bytesRead: bytesRead.load(ordering: .relaxed), bytesStored: bytesStored.load(ordering: .relaxed))
    }

    /// Processes the next chunk of the archive. After an error the temporary files are gone and every
    /// later call throws the same error.
    package func feed(_ chunk: UnsafeRawBufferPointer) throws {
        lock.lock()
        defer { lock.unlock() }
        let (tar, store) = try readingState()
        do {
            try tar.feed(chunk)
            bytesRead.store(tar.offset, ordering: .relaxed)
            bytesStored.store(store.compressedBytesStored, ordering: .relaxed)
        } catch {
            throw fail(error, store: store)
        }
    }

    package func feed(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try feed($0) }
    }

    /// Call once the stream has ended: checks the archive was complete, resolves the image and hands the
    /// temporary files over to it.
    package func finish() throws -> ExportedImage {
        lock.lock()
        defer { lock.unlock() }
        let (tar, store) = try readingState()
        do {
            try tar.finish()
            let resolver = ImageLayoutResolver(
                store: store, reference: options.reference, platform: try Self.platform(options.platform),
                metadataLimit: Self.metadataLimit)
            let image = try resolver.resolve()
            state = .finished
            bytesStored.store(store.compressedBytesStored, ordering: .relaxed)
            return image
        } catch {
            throw fail(error, store: store)
        }
    }

    /// Stops the export and removes its temporary files (the transfer failed or was abandoned).
    package func cancel() {
        // A feed waiting for the known layers holds the lock: it goes on (and then stops) once they are settled.
        options.knownLayers.abandon()
        lock.lock()
        defer { lock.unlock() }
        if case .reading(_, let store) = state {
            store.abandonGrowingLayers("the export was cancelled")
            store.scratch.remove()
            state = .cancelled
        }
    }

    /// Reads a `docker save` archive from a file (`docker save -o`), in chunks of `chunkSize` bytes.
    package static func read(archiveAt path: String, options: Options = Options(), chunkSize: Int = 1 << 20) throws -> ExportedImage {
        let reader = try ImageExportReader(options: options)
        guard let handle = FileHandle(forReadingAtPath: path) else {
            reader.cancel()
            throw ImageExportError.io(path: path, operation: "open", reason: "it does not exist or is not readable")
        }
        defer { try? handle.close() }
        do {
            while let data = try handle.read(upToCount: chunkSize), !data.isEmpty {
                try data.withUnsafeBytes { try reader.feed($0) }
            }
        } catch let error as ImageExportError {
            throw error
        } catch {
            reader.cancel()
            throw ImageExportError.io(path: path, operation: "read", reason: "\(error)")
        }
        return try reader.finish()
    }

    // MARK: - Internals

    /// Configs and manifests read back from disk are capped at this size.
    static let metadataLimit = 64 << 20

    private func readingState() throws -> (TarStreamReader, ArchiveEntryStore) {
        switch state {
        case .reading(let tar, let store): return (tar, store)
        case .finished: throw ImageExportError.readerClosed(reason: "it already finished")
        case .failed(let error): throw error
        case .cancelled: throw ImageExportError.readerClosed(reason: "it was cancelled")
        }
    }

    private func fail(_ error: any Error, store: ArchiveEntryStore) -> ImageExportError {
        let exportError =
            error as? ImageExportError
            ?? .io(path: store.scratch.path, operation: "process the archive in", reason: "\(error)")
        store.abandonGrowingLayers("\(exportError)")
        store.scratch.remove()
        state = .failed(exportError)
        return exportError
    }

    static func platform(_ text: String?) throws -> ImagePlatform {
        guard let text else {
            #if arch(arm64)
            return .init(os: "linux", architecture: "arm64", variant: nil)
            #elseif arch(x86_64)
            return .init(os: "linux", architecture: "amd64", variant: nil)
            #else
            return .init(os: "linux", architecture: "unknown", variant: nil)
            #endif
        }
        guard let platform = ImagePlatform(parsing: text) else {
            throw ImageExportError.invalidMetadata(path: "platform", reason: "\"\(text)\" is not os/architecture[/variant]")
        }
        return platform
    }
}
