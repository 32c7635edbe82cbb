import Foundation
import Hashing
import Synchronization
import TestWorld
import Testing

@testable import ImageExport

/// Big layers announced as their compression starts (`onLayerStarted`): a reader that follows the growing file reads
/// exactly the finished blob, and a failed export unblocks it with an error instead of leaving it waiting.
@Suite struct GrowingLayerTests {
    /// What a reader on its own thread read from a growing layer.
    struct ReadResult: Sendable {
        let digest: String
        let count: Int64
        /// The layer was not complete yet when the reader got its first bytes.
        let startedBeforeCompletion: Bool
    }

    /// Opens `layer` now (as an upload does when it is announced, before the file can go) and reads it to its end on a
    /// thread of its own (`read(into:)` blocks while the writer is behind).
    static func startReading(_ layer: GrowingLayer) -> Task<Result<ReadResult, any Error>, Never> {
        let opened = Result { try layer.openReader() }
        return Task { await readOnThread(layer, opened) }
    }

    static func readOnThread(_ layer: GrowingLayer, _ opened: Result<GrowingLayer.Reader, any Error>) async -> Result<ReadResult, any Error> {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                do {
                    let reader = try opened.get()
                    var hash = SHA256()
                    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
                    var first = true
                    var startedBeforeCompletion = false
                    while true {
                        let count = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
                        if count == 0 { break }
                        if first {
                            startedBeforeCompletion = layer.completion == nil
                            first = false
                        }
                        buffer.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    }
                    continuation.resume(
                        returning: .success(
                            ReadResult(digest: hash.finalize().ociDigest, count: reader.offset, startedBeforeCompletion: startedBeforeCompletion)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
    }

    /// The real `docker save` archive, with a threshold low enough that its data layer (3 MB) and busybox's (2 MB)
    /// grow under a reader.
    @Test func aReaderFollowingTheGrowingFileReadsTheFinishedBlob() async throws {
        let fixture = try await DockerImageFixture.shared()
        let archive = try readFile(fixture.archivePath)
        let parent = TemporaryDirectory(prefix: "iegl")
        let started = Mutex<[(layer: GrowingLayer, archiveOffset: Int64, reading: Task<Result<ReadResult, any Error>, Never>)]>([])
        var options = ImageExportReader.Options(temporaryDirectoryParent: parent.url)
        options.growingLayerMinimumSize = 1 << 20
        let fed = Mutex<Int64>(0)
        options.onLayerStarted = { layer in
            let reading = Self.startReading(layer)
            started.withLock { $0.append((layer, fed.withLock { $0 }, reading)) }
        }
        let reader = try ImageExportReader(options: options)
        // Small chunks from a transfer thread, as curl delivers them: the reader sees the file grow.
        let feeding: Result<Void, ImageExportError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                do {
                    try feedInChunks(archive, .fixed(16 * 1024)) { chunk in
                        try reader.feed(chunk)
                        fed.withLock { $0 += Int64(chunk.count) }
                    }
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error as! ImageExportError))
                }
            }
        }
        try feeding.get()
        let image = try reader.finish()
        let announced = started.withLock { $0 }
        // Layers over the threshold only: the data layer (3 MB) among them, not the hello.txt ones (a few bytes).
        #expect(announced.contains { $0.layer.uncompressedSize > 3_000_000 })
        #expect(!announced.contains { $0.layer.uncompressedSize < 1 << 20 })
        for (layer, archiveOffset, reading) in announced {
            #expect(archiveOffset < Int64(archive.count), "announced while the archive was still arriving")
            let read = try await reading.value.get()
            let stored = try #require(image.layers.first { $0.path == layer.path })
            #expect(read.digest == stored.digest)
            #expect(read.count == stored.size)
            #expect(layer.completion == GrowingLayer.Completion(digest: stored.digest, size: stored.size, diffID: stored.diffID))
            #expect(try await layer.completed().digest == stored.digest)
            #expect(layer.uncompressedSize == stored.uncompressedSize)
            #expect(layer.shortID.count == 12)
            try await checkLayerFileWithRealTools(stored)
        }
        image.cleanup()
    }

    /// The export fails half way: the reader that waits for more bytes gets an error, and so does `completed()`.
    @Test func aFailedExportUnblocksTheReaderWithAnError() async throws {
        let fixture = try await DockerImageFixture.shared()
        let archive = try readFile(fixture.archivePath)
        let parent = TemporaryDirectory(prefix: "iegl")
        let started = Mutex<[(GrowingLayer, Task<Result<ReadResult, any Error>, Never>)]>([])
        var options = ImageExportReader.Options(temporaryDirectoryParent: parent.url)
        options.growingLayerMinimumSize = 1 << 20
        options.onLayerStarted = { layer in
            let reading = Self.startReading(layer)
            started.withLock { $0.append((layer, reading)) }
        }
        let reader = try ImageExportReader(options: options)
        // Feed until a big layer (2 or 3 MB) is announced and 64 KiB more of it are in, then cancel (a transfer that broke).
        try archive.withUnsafeBytes { buffer in
            var offset = 0
            var afterAnnouncement = 0
            while offset < buffer.count && afterAnnouncement < 4 {
                let end = min(offset + 16 * 1024, buffer.count)
                try reader.feed(UnsafeRawBufferPointer(rebasing: buffer[offset..<end]))
                offset = end
                if !started.withLock({ $0.isEmpty }) { afterAnnouncement += 1 }
            }
        }
        let announced = started.withLock { $0 }
        try #require(announced.count == 1)
        let (layer, reading) = announced[0]
        #expect(layer.completion == nil, "cancelled before the layer was complete")
        reader.cancel()
        let read = await reading.value
        #expect(throws: GrowingLayer.GrowingLayerError.self) { try read.get() }
        await #expect(throws: GrowingLayer.GrowingLayerError.self) { try await layer.completed() }
        #expect(layer.completion == nil)
        #expect(filesIn(parent.path).isEmpty, "the temporary files are gone")
    }
}
