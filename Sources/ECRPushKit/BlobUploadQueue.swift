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

    var shortID: String { String(digest.split(separator: ":").last?.prefix(12) ?? Substring(digest)) }

    /// Each distinct layer once, in manifest order, then the config.
    static func blobs(of image: ExportedImage) -> [PreparedBlob] {
        var blobs: [PreparedBlob] = []
        var seen = Set<String>()
        for layer in image.layers where seen.insert(layer.digest).inserted {
            blobs.append(PreparedBlob(digest: layer.digest, size: layer.size, source: .file(layer.path)))
        }
        blobs.append(PreparedBlob(digest: image.configDigest, size: Int64(image.config.count), source: .bytes(image.config)))
        return blobs
    }
}

/// Runs blob uploads with at most `jobs` at a time. The first failure cancels the others and is rethrown.
/// The order uploads finish in never matters: the manifest is built from the image, not from the uploads.
enum BlobUploadQueue {
    static func run(_ blobs: [PreparedBlob], jobs: Int,
                    upload: @escaping @Sendable (PreparedBlob) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = blobs.makeIterator()
            for _ in 0..<max(1, jobs) {
                guard let blob = pending.next() else { break }
                group.addTask { try await upload(blob) }
            }
            while try await group.next() != nil {
                if let blob = pending.next() { group.addTask { try await upload(blob) } }
            }
        }
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

/// Reads an image from the Docker Engine once: `docker save` streamed into the export reader, each layer
/// compressed once into a temporary file with its digest.
enum EngineImageExport {
    static func export(_ localImage: String, docker: DockerClient, compressionLevel: Int,
                       temporaryDirectoryParent: URL?) async throws -> ExportedImage {
        guard try await docker.inspectImage(localImage) != nil else { throw DockerError.imageNotFound(localImage) }
        let reader = try ImageExportReader(options: .init(compressionLevel: compressionLevel,
                                                          temporaryDirectoryParent: temporaryDirectoryParent))
        do {
            try await docker.exportImage([localImage]) { chunk in try reader.feed(chunk) }
            return try reader.finish()
        } catch {
            reader.cancel()
            throw error
        }
    }
}
