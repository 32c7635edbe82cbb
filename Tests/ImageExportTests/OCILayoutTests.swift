import Foundation
import TestWorld
import Testing

@testable import ImageExport

/// OCI image layouts (what Engine 25+ `docker save` writes), packed by the test with the real tar, since
/// the test world's dockerd is older and writes the legacy layout.
@Suite struct OCILayoutTests {
    static let layerTar = "application/vnd.oci.image.layer.v1.tar"
    static let layerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    static let configType = "application/vnd.oci.image.config.v1+json"

    /// The real image's config and layers, rearranged as an OCI layout: index.json → image index (with an
    /// attestation and another platform) → manifest. The biggest layer is stored gzip-compressed (by the
    /// real gzip), the others uncompressed, as Engine 25 does with the containerd store and without.
    static func makeLayoutFromRealImage(
        _ fixture: DockerImageFixture, in root: String, withDockerManifest: Bool
    ) async throws
        -> (gzipLayerIndex: Int, gzipBlob: [UInt8])
    {
        let builder = try OCILayoutBuilder(root: root)
        let config = try builder.blob(try readFile(fixture.extractedPath + "/" + fixture.configPath), mediaType: configType)
        var layers: [[String: Any]] = []
        let gzipLayerIndex = 3  // data.bin
        var gzipBlob: [UInt8] = []
        for (index, path) in fixture.layerPaths.enumerated() {
            let full = fixture.extractedPath + "/" + path
            if index == gzipLayerIndex {
                try await shell("gzip -n -c '\(full)' > '\(root)/layer.gz'")
                gzipBlob = try readFile(root + "/layer.gz")
                try FileManager.default.removeItem(atPath: root + "/layer.gz")
                layers.append(try builder.blob(gzipBlob, mediaType: layerTarGzip))
            } else {
                layers.append(try builder.blob(try readFile(full), mediaType: layerTar))
            }
        }
        let manifest = try builder.manifest(config: config, layers: layers)
        let attestation = try builder.blob(
            Array("{}".utf8), mediaType: "application/vnd.oci.image.manifest.v1+json",
            extra: [
                "platform": ["os": "unknown", "architecture": "unknown"],
                "annotations": ["vnd.docker.reference.type": "attestation-manifest"]
            ])
        var amd64 = manifest
        amd64["platform"] = ["os": "linux", "architecture": "amd64"]
        // Another platform whose manifest is not in the archive: choosing it would fail.
        let arm64: [String: Any] = [
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 100,
            "digest": "sha256:" + String(repeating: "ab", count: 32), "platform": ["os": "linux", "architecture": "arm64"]
        ]
        var index = try builder.imageIndex([arm64, amd64, attestation])
        index["annotations"] = ["io.containerd.image.name": "docker.io/ie-test/app:1", "org.opencontainers.image.ref.name": "1"]
        try builder.writeIndex([index])
        if withDockerManifest {
            try builder.writeDockerManifest(
                config: config["digest"] as! String, layers: layers.map { $0["digest"] as! String }, repoTags: ["ie-test/app:1"])
        }
        return (gzipLayerIndex, gzipBlob)
    }

    @Test(arguments: [false, true])
    func readsAnOCILayoutOfTheRealImage(withDockerManifest: Bool) async throws {
        let fixture = try await DockerImageFixture.shared()
        let work = TemporaryDirectory(prefix: "ieoci")
        let (gzipLayerIndex, gzipBlob) = try await Self.makeLayoutFromRealImage(
            fixture, in: work.path + "/oci", withDockerManifest: withDockerManifest)
        // "./"-prefixed PAX entries, blobs before index.json as Engine 25 writes them.
        try await shell(
            "tar --format=pax --sort=name -C oci -cf oci.tar ./blobs ./oci-layout ./index.json \(withDockerManifest ? "./manifest.json" : "")",
            in: work.path)
        let parent = TemporaryDirectory(prefix: "ieoci")
        let image = try exportImage(
            try readFile(work.path + "/oci.tar"), chunking: .random(seed: 21),
            options: .init(temporaryDirectoryParent: parent.url, platform: "linux/amd64"))

        #expect(image.layout == (withDockerManifest ? .dockerManifest : .ociIndex))
        #expect(image.repoTags == [withDockerManifest ? "ie-test/app:1" : "docker.io/ie-test/app:1"])
        #expect(image.configDigest == fixture.imageID)
        #expect(image.layers.map(\.diffID) == fixture.diffIDs)
        #expect(image.layers[1] == image.layers[4])
        // The gzip layer is kept byte for byte: same digest, same file content.
        let kept = image.layers[gzipLayerIndex]
        #expect(kept.digest == sha256(gzipBlob))
        #expect(try readFile(kept.path) == gzipBlob)
        for layer in Set(image.layers) { try await checkLayerFileWithRealTools(layer) }
        #expect(filesIn(image.temporaryDirectory).count == 4)
    }

    /// A layout made entirely by the test: an empty layer (1 KiB of zeros, small enough to stay in memory
    /// until it turns out to be a layer), a tiny tar, and a gzip layer, with a config written to match.
    /// With a tiny in-memory limit, the index, manifest and config go to disk and are read back from there.
    @Test(arguments: [1 << 20, 64])
    func readsAHandmadeOCILayout(inMemoryLimit: Int) async throws {
        let work = TemporaryDirectory(prefix: "ieoci")
        try writeFile(work.path + "/tree/etc/motd", "handmade\n")
        try writeFile(work.path + "/tree2/big.bin", randomBytes(1_200_000, seed: 8))
        try await shell(
            """
            tar -b 2 -cf empty.tar -T /dev/null && \
            tar --format=gnu -C tree -cf small.tar . && \
            tar --format=gnu -C tree2 -cf big.tar . && gzip -n -1 -c big.tar > big.tar.gz
            """, in: work.path)
        let empty = try readFile(work.path + "/empty.tar")
        let small = try readFile(work.path + "/small.tar")
        let big = try readFile(work.path + "/big.tar")
        let bigGzip = try readFile(work.path + "/big.tar.gz")
        #expect(empty == [UInt8](repeating: 0, count: 1024))

        let builder = try OCILayoutBuilder(root: work.path + "/oci")
        let diffIDs = [sha256(small), sha256(empty), sha256(big), sha256(empty)]
        let configBytes = try builder.json(
            [
                "architecture": "amd64", "os": "linux", "config": ["Cmd": ["/bin/sh"]],
                "rootfs": ["type": "layers", "diff_ids": diffIDs]
            ] as [String: Any])
        let config = try builder.blob(configBytes, mediaType: Self.configType)
        let layers = [
            try builder.blob(small, mediaType: Self.layerTar), try builder.blob(empty, mediaType: Self.layerTar),
            try builder.blob(bigGzip, mediaType: Self.layerTarGzip), try builder.blob(empty, mediaType: Self.layerTar)
        ]
        var manifest = try builder.manifest(config: config, layers: layers)
        manifest["annotations"] = ["org.opencontainers.image.ref.name": "handmade"]
        try builder.writeIndex([manifest])
        try await shell("tar --format=gnu -C oci -cf oci.tar index.json oci-layout blobs", in: work.path)

        let parent = TemporaryDirectory(prefix: "ieoci")
        let image = try exportImage(
            try readFile(work.path + "/oci.tar"), chunking: .fixed(4096),
            options: .init(temporaryDirectoryParent: parent.url, inMemoryLimit: inMemoryLimit))
        #expect(image.layout == .ociIndex)
        #expect(image.repoTags == ["handmade"])
        #expect(image.config == configBytes)
        #expect(image.configDigest == sha256(configBytes))
        #expect(image.layers.map(\.diffID) == diffIDs)
        #expect(image.layers[1] == image.layers[3])
        #expect(image.layers[1].uncompressedSize == 1024)
        #expect(image.layers[2].digest == sha256(bigGzip))
        #expect(image.layers[2].uncompressedSize == Int64(big.count))
        for layer in Set(image.layers) { try await checkLayerFileWithRealTools(layer) }
        #expect(filesIn(image.temporaryDirectory).count == 3)
    }

    @Test func choosesAmongSeveralImagesByReferenceOrPlatform() async throws {
        let work = TemporaryDirectory(prefix: "ieoci")
        let builder = try OCILayoutBuilder(root: work.path + "/oci")
        let empty = [UInt8](repeating: 0, count: 1024)
        func image(_ name: String, architecture: String) throws -> [String: Any] {
            let config = try builder.blob(
                try builder.json(
                    [
                        "architecture": architecture, "os": "linux", "rootfs": ["type": "layers", "diff_ids": [sha256(empty)]]
                    ] as [String: Any]), mediaType: Self.configType)
            var manifest = try builder.manifest(config: config, layers: [try builder.blob(empty, mediaType: Self.layerTar)])
            manifest["annotations"] = ["io.containerd.image.name": name]
            manifest["platform"] = ["os": "linux", "architecture": architecture]
            return manifest
        }
        let amd64 = try image("docker.io/library/first:latest", architecture: "amd64")
        let arm64 = try image("example.com/second:2", architecture: "arm64")
        try builder.writeIndex([amd64, arm64])
        try await shell("tar -C oci -cf oci.tar .", in: work.path)
        let archive = try readFile(work.path + "/oci.tar")
        let parent = TemporaryDirectory(prefix: "ieoci")

        let byName = try exportImage(archive, options: .init(temporaryDirectoryParent: parent.url, reference: "first"))
        #expect(byName.repoTags == ["docker.io/library/first:latest"])
        let second = try exportImage(archive, options: .init(temporaryDirectoryParent: parent.url, reference: "example.com/second:2"))
        #expect(second.repoTags == ["example.com/second:2"])
        let byPlatform = try exportImage(archive, options: .init(temporaryDirectoryParent: parent.url, platform: "linux/arm64"))
        #expect(byPlatform.repoTags == ["example.com/second:2"])
        // Compared as containerd does: the kernel's name for the architecture finds the same image.
        let byAlias = try exportImage(archive, options: .init(temporaryDirectoryParent: parent.url, platform: "linux/aarch64"))
        #expect(byAlias.repoTags == ["example.com/second:2"])
        byAlias.cleanup()
        #expect(throws: ImageExportError.imageNotFound(reference: "third", available: ["docker.io/library/first:latest", "example.com/second:2"])) {
            try exportImage(archive, options: .init(temporaryDirectoryParent: parent.url, reference: "third"))
        }
        #expect(throws: ImageExportError.noMatchingPlatform(platform: "linux/s390x", available: ["linux/amd64", "linux/arm64"])) {
            try exportImage(archive, options: .init(temporaryDirectoryParent: parent.url, platform: "linux/s390x"))
        }
        // Failed reads left nothing behind; the successful ones own one directory each until cleaned up.
        withExtendedLifetime((byName, second, byPlatform)) { #expect(filesIn(parent.path).count == 3) }
        for image in [byName, second, byPlatform] { image.cleanup() }
        #expect(filesIn(parent.path).isEmpty)
    }

    @Test func zstdLayersAreRejectedWithAClearError() async throws {
        let work = TemporaryDirectory(prefix: "ieoci")
        let builder = try OCILayoutBuilder(root: work.path + "/oci")
        let zstdLike: [UInt8] = [0x28, 0xb5, 0x2f, 0xfd] + randomBytes(2_000_000, seed: 4)
        let config = try builder.blob(
            try builder.json(
                [
                    "architecture": "amd64", "os": "linux", "rootfs": ["type": "layers", "diff_ids": [sha256(zstdLike)]]
                ] as [String: Any]), mediaType: Self.configType)
        let layer = try builder.blob(zstdLike, mediaType: "application/vnd.oci.image.layer.v1.tar+zstd")
        try builder.writeIndex([try builder.manifest(config: config, layers: [layer])])
        try await shell("tar -C oci -cf oci.tar .", in: work.path)
        let parent = TemporaryDirectory(prefix: "ieoci")
        #expect(throws: ImageExportError.self) {
            try exportImage(try readFile(work.path + "/oci.tar"), options: .init(temporaryDirectoryParent: parent.url))
        }
        do {
            _ = try exportImage(try readFile(work.path + "/oci.tar"), options: .init(temporaryDirectoryParent: parent.url))
        } catch let error as ImageExportError {
            guard case .unsupportedLayerFormat(0, _, let detail) = error else { Issue.record("\(error)"); return }
            #expect(detail.contains("zstd"))
        }
        #expect(filesIn(parent.path).isEmpty)
    }
}
