import Foundation
import TestWorld
import Testing

@testable import ImageExport

/// Every way an export can fail removes what it wrote; a finished export's files go with cleanup() or
/// with the last copy of the image.
@Suite struct FailureAndCleanupTests {
    /// The real archive's files, changed by `change` and packed again with the real tar.
    static func repack(_ fixture: DockerImageFixture, in work: String, change: (String) throws -> Void) async throws -> [UInt8] {
        try await shell("cp -a '\(fixture.extractedPath)' '\(work)/copy'")
        try change(work + "/copy")
        try await shell("tar -C copy -cf repacked.tar .", in: work)
        return try readFile(work + "/repacked.tar")
    }

    /// Feeds `archive` to a reader whose scratch directory is under `parent`; returns the error it threw.
    static func failingExport(_ archive: [UInt8], parent: TemporaryDirectory) throws -> ImageExportError? {
        let reader = try ImageExportReader(options: .init(temporaryDirectoryParent: parent.url))
        do {
            try feedInChunks(archive, .random(seed: 2)) { try reader.feed($0) }
            _ = try reader.finish()
            return nil
        } catch let error as ImageExportError {
            #expect(!exists(reader.temporaryDirectory))
            #expect(filesIn(parent.path).isEmpty)
            // The reader stays failed.
            #expect(throws: error) { try reader.feed([0]) }
            #expect(throws: error) { _ = try reader.finish() }
            return error
        }
    }

    @Test func diffIDMismatchNamesTheLayerAndRemovesTheFiles() async throws {
        let fixture = try await DockerImageFixture.shared()
        let work = TemporaryDirectory(prefix: "iefl")
        try writeFile(work.path + "/other/file.txt", "not the layer you are looking for\n")
        try await shell("tar -C other -cf other.tar .", in: work.path)
        let other = try readFile(work.path + "/other.tar")
        let archive = try await Self.repack(fixture, in: work.path) { copy in
            try writeFile(copy + "/" + fixture.layerPaths[3], other)
        }
        let parent = TemporaryDirectory(prefix: "iefl")
        let error = try Self.failingExport(archive, parent: parent)
        #expect(error == .diffIDMismatch(layerIndex: 3, path: fixture.layerPaths[3], expected: fixture.diffIDs[3], actual: sha256(other)))
        let description = error?.description ?? ""
        #expect(description.contains("layer 3") && description.contains(fixture.diffIDs[3]) && description.contains(sha256(other)))
    }

    @Test func missingLayerAndTamperedConfigAreErrors() async throws {
        let fixture = try await DockerImageFixture.shared()
        let work = TemporaryDirectory(prefix: "iefl")
        let withoutLayer = try await Self.repack(fixture, in: work.path) { copy in
            try FileManager.default.removeItem(atPath: copy + "/" + fixture.layerPaths[3])
        }
        let parent = TemporaryDirectory(prefix: "iefl")
        #expect(try Self.failingExport(withoutLayer, parent: parent) == .missingEntry(path: fixture.layerPaths[3], role: "layer 3"))

        let work2 = TemporaryDirectory(prefix: "iefl")
        let tampered = try await Self.repack(fixture, in: work2.path) { copy in
            let path = copy + "/" + fixture.configPath
            try writeFile(path, try readFile(path) + Array(" ".utf8))
        }
        let error = try Self.failingExport(tampered, parent: parent)
        guard case .blobDigestMismatch(fixture.configPath, fixture.imageID, _) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
    }

    @Test func archivesWithoutAnImageLayoutAreErrors() async throws {
        let work = TemporaryDirectory(prefix: "iefl")
        try writeFile(work.path + "/files/a.txt", "a\n")
        try writeFile(work.path + "/files/b/c.bin", randomBytes(2_000_000, seed: 3))
        try await shell("tar --sort=name -C files -cf plain.tar .", in: work.path)
        let parent = TemporaryDirectory(prefix: "iefl")
        let error = try Self.failingExport(try readFile(work.path + "/plain.tar"), parent: parent)
        #expect(error == .unknownLayout(entries: ["a.txt", "b/c.bin"]))
    }

    @Test func truncatedStreamRemovesEverythingItWrote() async throws {
        let fixture = try await DockerImageFixture.shared()
        let archive = try readFile(fixture.archivePath)
        let parent = TemporaryDirectory(prefix: "iefl")
        let reader = try ImageExportReader(options: .init(temporaryDirectoryParent: parent.url))
        let cut = archive.count * 9 / 10
        try feedInChunks(Array(archive[0..<cut]), .fixed(32 * 1024)) { try reader.feed($0) }
        #expect(reader.progress.bytesRead == Int64(cut))
        #expect(reader.progress.bytesStored > 0)
        #expect(!filesIn(reader.temporaryDirectory).isEmpty, "layers were being written while the stream was read")
        #expect(throws: ImageExportError.self) { _ = try reader.finish() }
        #expect(!exists(reader.temporaryDirectory))
        #expect(filesIn(parent.path).isEmpty)
    }

    @Test func corruptHeaderMidStreamRemovesEverythingItWrote() async throws {
        let fixture = try await DockerImageFixture.shared()
        var archive = try readFile(fixture.archivePath)
        // The header right after the first layer.tar: by then that layer's gzip file exists.
        let collector = TarCollector()
        let scan = collector.makeReader()
        try scan.feed(archive)
        let firstLayer = try #require(collector.entries.firstIndex { $0.header.path.hasSuffix("/layer.tar") && $0.header.size > 0 })
        let target = collector.entries[firstLayer + 1].header.headerOffset
        archive[Int(target) + 10] ^= 0x5a

        let parent = TemporaryDirectory(prefix: "iefl")
        let reader = try ImageExportReader(options: .init(temporaryDirectoryParent: parent.url))
        try reader.feed(Array(archive[0..<Int(target)]))
        #expect(!filesIn(reader.temporaryDirectory).isEmpty)
        #expect(throws: ImageExportError.malformedArchive(offset: target, reason: "header checksum mismatch")) {
            try reader.feed(Array(archive[Int(target)...]))
        }
        #expect(!exists(reader.temporaryDirectory))
        #expect(filesIn(parent.path).isEmpty)
    }

    @Test func cancelAndReleaseRemoveAnUnfinishedExport() async throws {
        let fixture = try await DockerImageFixture.shared()
        let half = Array(try readFile(fixture.archivePath).prefix(3_000_000))
        let parent = TemporaryDirectory(prefix: "iefl")

        let reader = try ImageExportReader(options: .init(temporaryDirectoryParent: parent.url))
        try reader.feed(half)
        #expect(exists(reader.temporaryDirectory))
        reader.cancel()
        #expect(!exists(reader.temporaryDirectory))
        #expect(throws: ImageExportError.readerClosed(reason: "it was cancelled")) { try reader.feed([1]) }

        func abandoned() throws -> String {
            let reader = try ImageExportReader(options: .init(temporaryDirectoryParent: parent.url))
            try reader.feed(half)
            #expect(exists(reader.temporaryDirectory))
            return reader.temporaryDirectory
        }
        #expect(!exists(try abandoned()))
        #expect(filesIn(parent.path).isEmpty)
    }

    @Test func finishedExportsAreRemovedByCleanupOrWhenReleased() async throws {
        let fixture = try await DockerImageFixture.shared()
        let archive = try readFile(fixture.archivePath)
        let parent = TemporaryDirectory(prefix: "iefl")

        let image = try exportImage(archive, options: .init(temporaryDirectoryParent: parent.url))
        let copy = image
        #expect(image.layers.allSatisfy { exists($0.path) })
        copy.cleanup()
        #expect(!exists(image.temporaryDirectory))
        #expect(!image.layers.contains { exists($0.path) })
        image.cleanup()  // twice is harmless

        func released() throws -> String {
            let image = try exportImage(archive, options: .init(temporaryDirectoryParent: parent.url))
            #expect(image.layers.allSatisfy { exists($0.path) })
            return image.temporaryDirectory
        }
        #expect(!exists(try released()))
        #expect(filesIn(parent.path).isEmpty)

        let reader = try ImageExportReader(options: .init(temporaryDirectoryParent: parent.url))
        try reader.feed(archive)
        let finished = try reader.finish()
        #expect(throws: ImageExportError.readerClosed(reason: "it already finished")) { _ = try reader.finish() }
        #expect(exists(finished.temporaryDirectory), "a finished reader hands its files to the image")
        finished.cleanup()
    }

    /// A file system too small for the layers: the error says the disk is full and names the file.
    @Test func fullDiskIsReportedAndCleanedUp() async throws {
        let fixture = try await DockerImageFixture.shared()
        let mountPoint = TemporaryDirectory(prefix: "iefl")
        let mounted = try await runProcess("mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mountPoint.path])
        guard mounted.status == 0 else {
            // Not allowed to mount here (no CAP_SYS_ADMIN): nothing to test.
            return
        }
        let archive = try readFile(fixture.archivePath)
        var thrown: ImageExportError?
        do {
            _ = try exportImage(archive, options: .init(compressionLevel: 0, temporaryDirectoryParent: mountPoint.url))
        } catch let error as ImageExportError {
            thrown = error
        } catch {}
        let leftovers = filesIn(mountPoint.path)
        _ = try await runProcess("umount", [mountPoint.path])
        guard case .diskFull(let path) = thrown else {
            Issue.record("expected diskFull, got \(String(describing: thrown))")
            return
        }
        #expect(path.hasPrefix(mountPoint.path + "/ecrpush-export."))
        #expect(leftovers.isEmpty)
    }
}
