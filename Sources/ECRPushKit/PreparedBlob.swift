import DockerEngine
import Foundation
import ImageExport
import Synchronization

/// A blob of an exported image, ready to upload: a compressed layer in its temporary file, or the config.
struct PreparedBlob: Sendable {
    enum Source: Sendable {
        case file(String)
        case bytes([UInt8])
    }

    let digest: String
    let size: Int64
    let source: Source
    /// The uncompressed layer's digest; nil for the config.
    var diffID: String? = nil

    var shortID: String { Self.shortID(digest) }

    /// Whether the blob's file is gone: its export failed or was stopped, and removed what it had written (a blob is
    /// only ever handed out while its file exists). An upload that failed for that did not fail for its destination.
    var fileIsGone: Bool {
        guard case .file(let path) = source else { return false }
        return !FileManager.default.fileExists(atPath: path)
    }

    /// The first 12 hex digits, as docker names layers in its progress.
    static func shortID(_ digest: String) -> String {
        String(digest.split(separator: ":").last?.prefix(12) ?? Substring(digest))
    }

    /// Each distinct layer once, in manifest order, then the config.
    static func blobs(of image: ExportedImage) -> [PreparedBlob] {
        var blobs: [PreparedBlob] = []
        var seen = Set<String>()
        for layer in image.layers where seen.insert(layer.digest).inserted {
            blobs.append(PreparedBlob(digest: layer.digest, size: layer.size, source: .file(layer.path), diffID: layer.diffID))
        }
        blobs.append(PreparedBlob(digest: image.configDigest, size: Int64(image.config.count), source: .bytes(image.config)))
        return blobs
    }
}

/// Turns byte counts from a transfer thread into push events no more often than every `step` bytes
/// (the renderer then decides how often to draw): a 1 GiB layer does not make 16 000 events.
final class ProgressThrottle: Sendable {
    private let last = Mutex<Int64>(-1)
    private let step: Int64
    private let total: Int64

    init(total: Int64, step: Int64 = 1 << 20) {
        self.total = total
        self.step = step
    }

    /// True when `done` should be reported.
    func shouldReport(_ done: Int64) -> Bool {
        last.withLock { last in
            guard done == total || done < last || done - last >= step else { return false }
            last = done
            return true
        }
    }
}
