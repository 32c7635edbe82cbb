import Foundation
import TestWorld
import Testing

@testable import ImageExport

/// Layers the destination already holds are recognised in a real `docker save` stream before their bytes arrive
/// (from their directory's v1 ID), hashed to check, and neither compressed nor stored.
@Suite struct KnownLayerSkipTests {
    static let knownA = KnownBlob(digest: "sha256:" + String(repeating: "a", count: 64), size: 123, compression: .gzip)
    static let knownB = KnownBlob(digest: "sha256:" + String(repeating: "b", count: 64), size: 456, compression: .gzip)

    /// Layers 0 and 2 of the fixture, as held by the destination.
    static func known(_ fixture: DockerImageFixture) -> [String: KnownBlob] {
        [fixture.diffIDs[0]: knownA, fixture.diffIDs[2]: knownB]
    }

    func options(_ fixture: DockerImageFixture, parent: TemporaryDirectory) -> ImageExportReader.Options {
        var options = ImageExportReader.Options(temporaryDirectoryParent: parent.url)
        options.knownLayers = KnownLayerSet(Self.known(fixture))
        options.layerDiffIDs = fixture.diffIDs
        return options
    }

    /// The fixture's archive and reader options whose known layers are a pending set, settled by the test.
    func pendingExport() async throws -> (
        fixture: DockerImageFixture, archive: [UInt8], parent: TemporaryDirectory, options: ImageExportReader.Options, set: KnownLayerSet
    ) {
        let fixture = try await DockerImageFixture.shared()
        let parent = TemporaryDirectory(prefix: "iesk")
        var options = options(fixture, parent: parent)
        let set = KnownLayerSet.pending()
        options.knownLayers = set
        return (fixture, try readFile(fixture.archivePath), parent, options, set)
    }

    @Test func theRealEnginesDirectoryNamesGiveEachLayersIndex() async throws {
        let fixture = try await DockerImageFixture.shared()
        for (index, layerPath) in fixture.layerPaths.enumerated() {
            let directory = String(layerPath.dropLast("/layer.tar".count))
            let json = try readFile(fixture.extractedPath + "/" + directory + "/json")
            // The repeated layer (4 is 1 again) still has a directory of its own, named for its own chain.
            #expect(LegacyLayerID.layerIndex(directoryName: directory, json: json, diffIDs: fixture.diffIDs) == index, "\(layerPath)")
            #expect(LegacyLayerID.layerIndex(directoryName: directory, json: json, diffIDs: Array(fixture.diffIDs.reversed())) != index)
        }
    }

    @Test func knownLayersAreNamedNotCompressed() async throws {
        let fixture = try await DockerImageFixture.shared()
        let archive = try readFile(fixture.archivePath)
        let parent = TemporaryDirectory(prefix: "iesk")
        let plain = try exportImage(archive, options: .init(temporaryDirectoryParent: parent.url))
        defer { plain.cleanup() }
        let image = try exportImage(archive, chunking: .fixed(16 * 1024), options: options(fixture, parent: parent))
        defer { image.cleanup() }

        #expect(image.layers.map(\.diffID) == fixture.diffIDs)
        #expect(image.layers[0].digest == Self.knownA.digest && image.layers[0].size == 123 && image.layers[0].path.isEmpty)
        #expect(image.layers[2].digest == Self.knownB.digest && image.layers[2].size == 456 && image.layers[2].path.isEmpty)
        for index in [1, 3, 4] {
            #expect(image.layers[index].digest == plain.layers[index].digest, "layer \(index) is compressed as always")
            #expect(!image.layers[index].path.isEmpty)
        }
        #expect(filesIn(image.temporaryDirectory).count == filesIn(plain.temporaryDirectory).count - 2, "no files for the known layers")
    }

    /// The known layers settled only while the export already streams (a base still being checked or copied): the
    /// first layer entry waits for them on the feeding thread, and the result is the same as if they had been given.
    @Test func aPendingSetIsWaitedForAtTheFirstLayer() async throws {
        let (fixture, archive, parent, options, pending) = try await pendingExport()
        let resolver = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            pending.resolve(Self.known(fixture))
        }
        let started = Date()
        resolver.start()
        // The parent directory outlives the export: the reader makes its temporary directory in it.
        let image = try withExtendedLifetime(parent) { try exportImage(archive, chunking: .fixed(16 * 1024), options: options) }
        defer { image.cleanup() }
        #expect(Date().timeIntervalSince(started) >= 0.2, "the reader waited for the set")
        #expect(image.layers[0].digest == Self.knownA.digest && image.layers[0].path.isEmpty)
        #expect(image.layers[2].digest == Self.knownB.digest && image.layers[2].path.isEmpty)
        #expect(!image.layers[1].path.isEmpty && !image.layers[3].path.isEmpty)
        #expect(await pending.settled()[fixture.diffIDs[0]] == Self.knownA)
    }

    /// Abandoned (the look-up gave nothing): every layer is compressed. Failed: the export stops, nothing left behind.
    @Test func anAbandonedSetCompressesEverythingAndAFailedOneStopsTheExport() async throws {
        var (fixture, archive, parent, options, abandoned) = try await pendingExport()
        abandoned.abandon()
        abandoned.resolve([fixture.diffIDs[0]: Self.knownA])  // too late: the first settlement wins
        let image = try exportImage(archive, options: options)
        defer { image.cleanup() }
        #expect(image.layers.allSatisfy { !$0.path.isEmpty }, "no layer named for a known blob")

        let failed = KnownLayerSet.pending()
        failed.fail("the look-up failed")
        options.knownLayers = failed
        #expect(failed.hasFailed)
        #expect {
            _ = try exportImage(archive, options: options)
        } throws: { error in
            guard case ImageExportError.readerClosed(let reason) = error else { return false }
            return reason == "the look-up failed"
        }
        #expect(filesIn(parent.path) == [URL(fileURLWithPath: image.temporaryDirectory).lastPathComponent], "the failed one left nothing")
    }

    /// A directory whose name promises a known layer but whose bytes are another: the export fails with
    /// `layerPredictionFailed` (the push then reads the image again), never a layer named for the wrong bytes.
    /// `settle` resolves the set with what the look-up found, abandons it when the look-up is cancelled, and fails
    /// it (its error thrown on) when the look-up fails.
    @Test func settleEndsThePendingSetAsTheLookUpEnds() async throws {
        let found = KnownLayerSet.pending()
        let result = try await found.settle(reason: "unused", blobs: { ["diff": $0] }) { Self.knownA }
        #expect(result == Self.knownA)
        #expect(await found.settled() == ["diff": Self.knownA])

        let cancelled = KnownLayerSet.pending()
        await #expect(throws: CancellationError.self) {
            try await cancelled.settle(reason: "unused", blobs: { ["diff": $0] }) { () async throws -> KnownBlob in throw CancellationError() }
        }
        #expect(await cancelled.settled().isEmpty)
        #expect(!cancelled.hasFailed)

        struct LookUpFailed: Error {}
        let failed = KnownLayerSet.pending()
        await #expect(throws: LookUpFailed.self) {
            try await failed.settle(reason: "the look-up failed", blobs: { ["diff": $0] }) { () async throws -> KnownBlob in throw LookUpFailed() }
        }
        #expect(failed.hasFailed)
        #expect(throws: ImageExportError.readerClosed(reason: "the look-up failed")) { try failed.waitForBlobs() }
    }

    @Test func bytesThatAreNotThePromisedLayerFailTheExport() async throws {
        let fixture = try await DockerImageFixture.shared()
        var archive = try readFile(fixture.archivePath)
        let name = Array(fixture.layerPaths[0].utf8)
        let header = try #require(
            stride(from: 0, to: archive.count - 512, by: 512).first { archive[$0..<$0 + name.count].elementsEqual(name) })
        archive[header + 512 + 700] ^= 0xff  // inside the layer's first file: same size, other bytes
        let parent = TemporaryDirectory(prefix: "iesk")
        #expect {
            _ = try exportImage(archive, options: options(fixture, parent: parent))
        } throws: { error in
            guard case ImageExportError.layerPredictionFailed(_, let predicted, _) = error else { return false }
            return predicted == fixture.diffIDs[0]
        }
        #expect(filesIn(parent.path).isEmpty, "nothing left behind")
    }
}
