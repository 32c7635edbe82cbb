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

/// Reads an image from the Docker Engine once and uploads each of its distinct blobs exactly once, at most
/// `jobs` at a time, overlapping the two: a layer's upload starts as soon as its compressed file is complete,
/// while the Engine is still sending the layers after it; the config (and any layer recognised only from the
/// archive's index) follows once the export is finished.
enum EngineImageExport {
    private enum Event: Sendable {
        case layerStored(ExportedLayer)
        case finished(ExportedImage)
    }

    private enum Finished: Sendable { case export, upload }

    /// Returns the image once every upload has finished; the caller removes its files (`cleanup()`). On
    /// failure the other uploads are cancelled and the temporary files removed.
    static func exportAndUpload(_ localImage: String, docker: DockerClient, compressionLevel: Int,
                                temporaryDirectoryParent: URL?, jobs: Int,
                                upload: @escaping @Sendable (PreparedBlob) async throws -> Void) async throws -> ExportedImage {
        let (events, continuation) = AsyncThrowingStream<Event, any Error>.makeStream()
        let reader = try ImageExportReader(options: .init(
            compressionLevel: compressionLevel, temporaryDirectoryParent: temporaryDirectoryParent,
            onLayerStored: { continuation.yield(.layerStored($0)) }))
        var exported: ExportedImage?
        do {
            try await withThrowingTaskGroup(of: Finished.self) { group in
                group.addTask {
                    do {
                        try await docker.exportImage([localImage]) { chunk in try reader.feed(chunk) }
                        continuation.yield(.finished(try reader.finish()))
                        continuation.finish()
                    } catch {
                        reader.cancel()
                        continuation.finish(throwing: error)
                        throw error
                    }
                    return .export
                }
                var started = Set<String>()
                var running = 0
                func start(_ blob: PreparedBlob) async throws {
                    guard started.insert(blob.digest).inserted else { return }
                    while running >= max(1, jobs) {
                        if try await group.next() == .upload { running -= 1 }
                    }
                    running += 1
                    group.addTask {
                        do {
                            try await upload(blob)
                        } catch {
                            // Ends the wait for export events at once: no point reading the rest of the image.
                            continuation.finish(throwing: error)
                            throw error
                        }
                        return .upload
                    }
                }
                for try await event in events {
                    switch event {
                    case .layerStored(let layer):
                        try await start(PreparedBlob(digest: layer.digest, size: layer.size, source: .file(layer.path)))
                    case .finished(let image):
                        exported = image
                        for blob in PreparedBlob.blobs(of: image) { try await start(blob) }
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            reader.cancel()
            exported?.cleanup()  // an image not yet handed over also cleans up when released
            throw error
        }
        guard let image = exported else {
            throw ECRPushError.internalInconsistency("the image export ended without an image")
        }
        return image
    }
}
