import DockerEngine
import Foundation
import Hashing
import TestWorld
import Testing

@testable import ECRPushKit

/// The Engine's export asked for before the push reads it (`EngineExportAhead`), on the loopback dockerd: its bytes
/// wait for the reader that comes later, and one nobody takes ends when cancelled.
@Suite struct EngineExportAheadTests {
    /// Collects what a reader is handed, on the transfer's thread.
    final class Sink: @unchecked Sendable {
        private let lock = NSLock()
        private var hash = SHA256()
        private var count = 0

        func add(_ chunk: UnsafeRawBufferPointer) {
            lock.lock()
            hash.update(chunk)
            count += chunk.count
            lock.unlock()
        }

        var result: (digest: String, count: Int) {
            lock.lock()
            defer { lock.unlock() }
            return (hash.currentDigest().ociDigest, count)
        }
    }

    @Test func aReaderThatComesLaterGetsTheWholeExport() async throws {
        let daemon = try await DockerDaemon.shared()
        let docker = DockerClient(socketPath: daemon.socketPath)
        let ahead = EngineExportAhead.start(image: DockerDaemon.baseImage, docker: docker)
        // Long enough for the Engine to have written the image out and to be holding its first bytes.
        try await Task.sleep(for: .milliseconds(500))
        let late = Sink()
        try await ahead.take { late.add($0) }

        let direct = Sink()
        try await docker.exportImage([DockerDaemon.baseImage]) { direct.add($0) }
        #expect(late.result.count > 1 << 20)
        #expect(late.result.count == direct.result.count)
        #expect(late.result.digest == direct.result.digest)
        // Once only.
        await #expect(throws: ECRPushError.self) { try await ahead.take { _ in } }
    }

    @Test func anExportNobodyTakesEndsWhenCancelled() async throws {
        let daemon = try await DockerDaemon.shared()
        let ahead = EngineExportAhead.start(image: DockerDaemon.baseImage, docker: DockerClient(socketPath: daemon.socketPath))
        try await Task.sleep(for: .milliseconds(300))
        ahead.cancel()
        await #expect(throws: CancellationError.self) { try await ahead.take { _ in Issue.record("a byte after the cancel") } }
    }

    @Test func aMissingImageIsTheReadersError() async throws {
        let daemon = try await DockerDaemon.shared()
        let ahead = EngineExportAhead.start(
            image: "no-such-image-\(UInt32.random(in: 0...UInt32.max)):1", docker: DockerClient(socketPath: daemon.socketPath))
        await #expect(throws: DockerError.self) { try await ahead.take { _ in } }
    }

    @Test func theBlobCacheSaysWhetherItMayRememberAnImage() throws {
        let directory = TemporaryDirectory()
        let cache = BlobDigestCache(directory: directory.path + "/blobs")
        let id = "sha256:" + String(repeating: "ab", count: 32)
        #expect(!cache.mayRemember(imageID: id))
        try cache.record(
            imageID: id, config: .init(digest: "sha256:" + String(repeating: "cd", count: 32), size: 10), layers: [], registry: "r.example:5000",
            repository: "team/app")
        #expect(cache.mayRemember(imageID: id))
        #expect(!cache.mayRemember(imageID: "sha256:" + String(repeating: "ef", count: 32)))
    }
}
