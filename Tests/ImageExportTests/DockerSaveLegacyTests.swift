import Foundation
import TestWorld
import Testing

@testable import ImageExport

/// `docker save` archives from the real private dockerd (Debian's 20.10: the legacy layout).
@Suite struct DockerSaveLegacyTests {
    @Test(arguments: [Chunking.random(seed: 1), .fixed(16 * 1024), .fixed(1 << 20)])
    func readsTheRealDockerSaveArchive(chunking: Chunking) async throws {
        let fixture = try await DockerImageFixture.shared()
        let archive = try readFile(fixture.archivePath)
        let parent = TemporaryDirectory(prefix: "iesv")
        let image = try exportImage(archive, chunking: chunking, options: .init(temporaryDirectoryParent: parent.url))

        #expect(image.layout == .dockerManifest)
        #expect(image.configDigest == fixture.imageID)
        #expect(image.imageID == fixture.imageID)
        #expect(image.config == (try readFile(fixture.extractedPath + "/" + fixture.configPath)))
        #expect(image.repoTags == [fixture.tag])
        #expect(image.layers.map(\.diffID) == fixture.diffIDs)
        #expect(image.layers.count == 5)

        // Layers 1 and 4 are the same (a symlink in the archive): one file, compressed once.
        #expect(image.layers[1] == image.layers[4])
        #expect(Set(image.layers.map(\.path)).count == 4)
        // Only the distinct layer files are left in the export's directory.
        #expect(filesIn(parent.path) == [(image.temporaryDirectory as NSString).lastPathComponent])
        #expect(filesIn(image.temporaryDirectory) == Set(image.layers.map { ($0.path as NSString).lastPathComponent }).sorted())

        for layer in Set(image.layers) {
            #expect(layer.path.hasPrefix(image.temporaryDirectory + "/"))
            try await checkLayerFileWithRealTools(layer)
        }
        // The uncompressed sizes are those of the layer.tar files docker wrote.
        for (index, path) in fixture.layerPaths.enumerated() {
            // Follow the duplicate layer's symlink to the file.
            let file = URL(fileURLWithPath: fixture.extractedPath + "/" + path).resolvingSymlinksInPath().path
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            #expect((attributes[.size] as? NSNumber)?.int64Value == image.layers[index].uncompressedSize)
        }
        image.cleanup()
        #expect(!exists(image.temporaryDirectory))
        #expect(filesIn(parent.path).isEmpty)
    }

    /// As ecrpush uses it: chunks arrive on a transfer thread; another task watches progress and finishes.
    @Test func feedsFromATransferThread() async throws {
        let fixture = try await DockerImageFixture.shared()
        let archive = try readFile(fixture.archivePath)
        let parent = TemporaryDirectory(prefix: "iesv")
        let reader = try ImageExportReader(options: .init(temporaryDirectoryParent: parent.url))
        let fed: Result<Void, ImageExportError> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                do {
                    try feedInChunks(archive, .fixed(16 * 1024)) { try reader.feed($0) }
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error as! ImageExportError))
                }
            }
        }
        try fed.get()
        #expect(reader.progress.bytesRead == Int64(archive.count))
        let image = try reader.finish()
        #expect(reader.progress.bytesStored == Set(image.layers).map(\.size).reduce(0, +))
        #expect(image.layers.map(\.diffID) == fixture.diffIDs)
    }

    @Test func readsTheArchiveFromAFile() async throws {
        let fixture = try await DockerImageFixture.shared()
        let parent = TemporaryDirectory(prefix: "iesv")
        let image = try ImageExportReader.read(
            archiveAt: fixture.archivePath, options: .init(compressionLevel: 1, temporaryDirectoryParent: parent.url), chunkSize: 100_000)
        #expect(image.configDigest == fixture.imageID)
        #expect(image.layers.map(\.diffID) == fixture.diffIDs)
        for layer in Set(image.layers) { try await checkLayerFileWithRealTools(layer) }
    }

    @Test func compressionLevelsTradeSizeForSpeed() async throws {
        let fixture = try await DockerImageFixture.shared()
        let archive = try readFile(fixture.archivePath)
        let parent = TemporaryDirectory(prefix: "iesv")
        let stored = try exportImage(archive, options: .init(compressionLevel: 0, temporaryDirectoryParent: parent.url))
        let best = try exportImage(archive, options: .init(compressionLevel: 9, temporaryDirectoryParent: parent.url))
        #expect(stored.layers.map(\.diffID) == best.layers.map(\.diffID))
        #expect(stored.layers.map(\.size).reduce(0, +) > best.layers.map(\.size).reduce(0, +))
        // Level 0 still makes valid gzip: stored blocks.
        for layer in Set(stored.layers) { try await checkLayerFileWithRealTools(layer) }
        #expect(stored.temporaryDirectory != best.temporaryDirectory)
    }

    /// The strongest check that the blobs and manifest are right: push them to a real registry with skopeo
    /// (which verifies every digest) and `docker pull` them back (which checks each layer against the
    /// config's diff_ids after decompressing it).
    @Test func pushedBlobsPullBackIntoDocker() async throws {
        let fixture = try await DockerImageFixture.shared()
        let registry = try await LoopbackRegistry.shared()
        let parent = TemporaryDirectory(prefix: "iesv")
        let image = try ImageExportReader.read(archiveAt: fixture.archivePath, options: .init(temporaryDirectoryParent: parent.url))
        let manifest = image.manifest()

        // skopeo's dir: transport: blobs named by hex digest, plus the manifest as is.
        let layout = parent.path + "/dir-layout"
        try writeFile(layout + "/version", "Directory Transport Version: 1.1\n")
        try writeFile(layout + "/manifest.json", manifest.bytes)
        try writeFile(layout + "/" + image.configDigest.dropFirst(7), image.config)
        for layer in Set(image.layers) {
            try FileManager.default.copyItem(atPath: layer.path, toPath: layout + "/" + layer.digest.dropFirst(7))
        }
        let reference = "\(registry.hostPort)/ie-roundtrip/app:1"
        let credentials = "\(registry.username):\(registry.password)"
        try await shell("skopeo copy --quiet --dest-tls-verify=false --dest-creds '\(credentials)' dir:'\(layout)' docker://\(reference)")
        let pushedDigest = try await shell("skopeo inspect --raw --tls-verify=false --creds '\(credentials)' docker://\(reference) | sha256sum")
        #expect("sha256:" + (pushedDigest.split(separator: " ").first ?? "") == manifest.digest)

        let login = try await fixture.daemon.docker(
            ["login", "-u", registry.username, "--password-stdin", registry.hostPort],
            stdin: Data(registry.password.utf8))
        #expect(login.status == 0, "\(login.combinedText)")
        try await DockerImageFixture.run(fixture.daemon, ["pull", reference])
        let pulledID = try await DockerImageFixture.run(fixture.daemon, ["image", "inspect", "--format", "{{.Id}}", reference])
        #expect(pulledID.trimmingCharacters(in: .whitespacesAndNewlines) == fixture.imageID)
        let hello = try await DockerImageFixture.run(fixture.daemon, ["run", "--rm", "--network", "none", reference, "cat", "/hello.txt"])
        #expect(hello == DockerImageFixture.helloText)
        try await DockerImageFixture.run(fixture.daemon, ["rmi", reference])
    }
}
