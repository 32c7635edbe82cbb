/// Why a `docker save` stream could not be turned into pushable blobs.
package enum ImageExportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The tar stream ended before its end marker (inside `entry`, if one was being read).
    case truncatedArchive(offset: Int64, entry: String?)
    /// The bytes at `offset` are not a valid tar header or metadata record.
    case malformedArchive(offset: Int64, reason: String)
    /// Neither `manifest.json` nor an OCI `index.json` was found; `entries` lists some of what was there.
    case unknownLayout(entries: [String])
    /// A manifest, index or config could not be understood.
    case invalidMetadata(path: String, reason: String)
    /// Something the manifest refers to (`role`: "config", "layer 2", "manifest ...") is not in the archive.
    case missingEntry(path: String, role: String)
    /// The archive holds several images and no reference was given to pick one.
    case ambiguousImage(candidates: [String])
    /// No image in the archive is tagged `reference`.
    case imageNotFound(reference: String, available: [String])
    /// An image index has no manifest for `platform`.
    case noMatchingPlatform(platform: String, available: [String])
    /// The manifest lists a different number of layers than the config's `rootfs.diff_ids`.
    case layerCountMismatch(manifestLayers: Int, configDiffIDs: Int)
    /// Layer `layerIndex`'s uncompressed content does not hash to the config's `rootfs.diff_ids[layerIndex]`.
    case diffIDMismatch(layerIndex: Int, path: String, expected: String, actual: String)
    /// A content-addressed entry (`blobs/sha256/<hex>`, `<hex>.json`) does not hash to its name.
    case blobDigestMismatch(path: String, expected: String, actual: String)
    /// A layer is neither an uncompressed tar nor gzip (zstd, for example).
    case unsupportedLayerFormat(layerIndex: Int, path: String, detail: String)
    /// A metadata entry (manifest, config, PAX header) is bigger than this reader accepts.
    case entryTooLarge(path: String, size: Int64, limit: Int64)
    /// The file system holding the temporary blobs is full.
    case diskFull(path: String)
    /// A file operation on a temporary blob failed.
    case io(path: String, operation: String, reason: String)
    /// zlib refused to compress or decompress.
    case zlib(operation: String, code: Int32, message: String)
    /// Compression levels are 0 (store) to 9 (best).
    case invalidCompressionLevel(Int, LayerCompression = .gzip)
    case zstd(operation: String, message: String)
    case libdeflate(operation: String)
    /// The reader was used after it finished, failed or was cancelled.
    case readerClosed(reason: String)
    /// A layer skipped as already held by the destination (`Options.knownLayers`) turned out to be another layer
    /// than its directory's name promised: the export must be read again without skipping.
    case layerPredictionFailed(path: String, predicted: String, actual: String)

    package var description: String {
        switch self {
        case .truncatedArchive(let offset, let entry):
            let inside = entry.map { " inside \"\($0)\"" } ?? ""
            return
                "the image archive ended early at byte \(offset)\(inside): the export stream was cut off. Retry the export; check that the Docker "
                + "daemon did not fail or run out of space."
        case .malformedArchive(let offset, let reason):
            return "the image archive is not a valid tar at byte \(offset): \(reason). Is this really the output of `docker save`?"
        case .unknownLayout(let entries):
            let shown = entries.prefix(10).joined(separator: ", ")
            return
                "the image archive has neither manifest.json nor an OCI index.json, so its layout is unknown (entries: "
                + "\(shown.isEmpty ? "none" : shown))."
        case .invalidMetadata(let path, let reason):
            return "\"\(path)\" in the image archive could not be read: \(reason)."
        case .missingEntry(let path, let role):
            return "the image archive has no \"\(path)\", which its manifest names as the \(role)."
        case .ambiguousImage(let candidates):
            return "the image archive holds several images (\(candidates.joined(separator: ", "))); name the one to push."
        case .imageNotFound(let reference, let available):
            return
                "the image archive has no image tagged \"\(reference)\" (it has: "
                + "\(available.isEmpty ? "no tags" : available.joined(separator: ", ")))."
        case .noMatchingPlatform(let platform, let available):
            return "the image index has no manifest for platform \(platform) (it has: \(available.joined(separator: ", ")))."
        case .layerCountMismatch(let manifestLayers, let configDiffIDs):
            return "the image manifest lists \(manifestLayers) layers but its config lists \(configDiffIDs) diff_ids; the export is inconsistent."
        case .layerPredictionFailed(let path, let predicted, let actual):
            return "\(path) was expected to be layer \(predicted) but is \(actual): the image is read again and every layer compressed"
        case .diffIDMismatch(let layerIndex, let path, let expected, let actual):
            return
                "layer \(layerIndex) (\"\(path)\") has uncompressed digest \(actual) but the image config expects \(expected); the export is "
                + "corrupt or inconsistent. Retry the export."
        case .blobDigestMismatch(let path, let expected, let actual):
            return "\"\(path)\" in the image archive hashes to \(actual), not \(expected) as its name says; the export is corrupt."
        case .unsupportedLayerFormat(let layerIndex, let path, let detail):
            return "layer \(layerIndex) (\"\(path)\") is not an uncompressed or gzip-compressed tar (\(detail)); only those can be pushed."
        case .entryTooLarge(let path, let size, let limit):
            return "\"\(path)\" in the image archive is \(size) bytes, more than the \(limit) bytes accepted for metadata."
        case .diskFull(let path):
            return
                "no space left on the device holding \(path) while writing compressed layers; free some space or choose another temporary directory."
        case .io(let path, let operation, let reason):
            return "could not \(operation) \(path): \(reason)."
        case .zlib(let operation, let code, let message):
            return "zlib failed to \(operation) (code \(code)\(message.isEmpty ? "" : ": \(message)"))."
        case .invalidCompressionLevel(let level, let compression):
            let range = compression.levels
            return
                "\(compression.rawValue) compression level \(level) is invalid; use \(range.lowerBound) (fastest) to \(range.upperBound) (smallest)."
        case .libdeflate(let operation):
            return "libdeflate failed to \(operation)."
        case .zstd(let operation, let message):
            return "zstd failed to \(operation)\(message.isEmpty ? "" : ": \(message)")."
        case .readerClosed(let reason):
            return "the image export reader can no longer be used: \(reason)."
        }
    }
}
