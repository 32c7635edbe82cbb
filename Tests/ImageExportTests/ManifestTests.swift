import Foundation
import TestWorld
import Testing

@testable import ImageExport

/// The Docker v2 schema 2 manifest built from an export: exact, deterministic bytes.
@Suite struct ManifestTests {
    /// Only zstd needs an OCI manifest; then its gzip layers (kept as the archive had them) take OCI's gzip type,
    /// and the config OCI's config type. Remembered and exported blobs give the very same bytes.
    @Test func ociManifestWhenAnyLayerIsZstd() throws {
        let gzip = (digest: "sha256:" + String(repeating: "a", count: 64), size: Int64(10), mediaType: ExportedLayer.gzipMediaType)
        let zstd = (digest: "sha256:" + String(repeating: "b", count: 64), size: Int64(20), mediaType: ExportedLayer.zstdMediaType)
        let config = "sha256:" + String(repeating: "c", count: 64)
        let docker = ImageManifest.forImage(configDigest: config, configSize: 5, layers: [gzip, gzip])
        #expect(docker.mediaType == ImageManifest.dockerV2MediaType)
        let oci = ImageManifest.forImage(configDigest: config, configSize: 5, layers: [gzip, zstd])
        #expect(oci.mediaType == "application/vnd.oci.image.manifest.v1+json")
        #expect(
            String(decoding: oci.bytes, as: UTF8.self)
                == #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#
                + #""config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":5,"#
                + #""digest":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"},"#
                + #""layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","size":10,"#
                + #""digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"#
                + #"{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","size":20,"#
                + #""digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]}"#
        )
        #expect(oci.digest == sha256(oci.bytes))
        #expect(ImageManifest.forImage(configDigest: config, configSize: 5, layers: [gzip, zstd]) == oci, "deterministic")
    }

    @Test func manifestOfTheRealImage() async throws {
        let fixture = try await DockerImageFixture.shared()
        let parent = TemporaryDirectory(prefix: "iemf")
        let image = try ImageExportReader.read(archiveAt: fixture.archivePath, options: .init(temporaryDirectoryParent: parent.url))
        let manifest = image.manifest()

        #expect(manifest.mediaType == "application/vnd.docker.distribution.manifest.v2+json")
        #expect(manifest.digest == sha256(manifest.bytes))
        #expect(image.manifest() == manifest, "the same image gives the same bytes")

        let json = try #require(try JSONSerialization.jsonObject(with: Data(manifest.bytes)) as? [String: Any])
        #expect(Set(json.keys) == ["schemaVersion", "mediaType", "config", "layers"])
        #expect(json["schemaVersion"] as? Int == 2)
        #expect(json["mediaType"] as? String == "application/vnd.docker.distribution.manifest.v2+json")
        let config = try #require(json["config"] as? [String: Any])
        #expect(config["mediaType"] as? String == "application/vnd.docker.container.image.v1+json")
        #expect(config["size"] as? Int == image.config.count)
        #expect(config["digest"] as? String == fixture.imageID)
        let layers = try #require(json["layers"] as? [[String: Any]])
        #expect(layers.count == fixture.diffIDs.count)
        for (layer, exported) in zip(layers, image.layers) {
            #expect(layer["mediaType"] as? String == "application/vnd.docker.image.rootfs.diff.tar.gzip")
            #expect((layer["size"] as? NSNumber)?.int64Value == exported.size)
            #expect(layer["digest"] as? String == exported.digest)
            let attributes = try FileManager.default.attributesOfItem(atPath: exported.path)
            #expect((attributes[.size] as? NSNumber)?.int64Value == exported.size)
        }
        // The layout Docker itself uses for the keys, compact.
        let text = String(decoding: manifest.bytes, as: UTF8.self)
        #expect(
            text.hasPrefix(
                #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","#
                    + #""config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":"#
            ))
        #expect(!text.contains("\n"))
    }

    @Test func jsonStringsAreEscaped() {
        #expect(jsonString("plain/type+json") == #""plain/type+json""#)
        #expect(jsonString("quote\" back\\ nl\n ctl\u{01}") == #""quote\" back\\ nl\n ctl\u0001""#)
    }

    @Test func referenceNamesNormalizeLikeDocker() {
        #expect(ImageReferenceName.normalize("busybox") == "docker.io/library/busybox:latest")
        #expect(ImageReferenceName.normalize("me/app:1") == "docker.io/me/app:1")
        #expect(ImageReferenceName.normalize("localhost:5000/app") == "localhost:5000/app:latest")
        #expect(ImageReferenceName.normalize("123.dkr.ecr.us-east-1.amazonaws.com/app:v2") == "123.dkr.ecr.us-east-1.amazonaws.com/app:v2")
        #expect(ImageReferenceName.matches("ie-test/app:1", "docker.io/ie-test/app:1"))
        #expect(!ImageReferenceName.matches("ie-test/app:1", "ie-test/app:2"))
    }

    @Test func archivePathsNormalizeAndResolveLinks() {
        #expect(ArchivePath.normalize("./blobs//sha256/abc/") == "blobs/sha256/abc")
        #expect(ArchivePath.resolveSymlink(at: "b/layer.tar", target: "../a/layer.tar") == "a/layer.tar")
        #expect(ArchivePath.resolveSymlink(at: "layer.tar", target: "/x/y") == "x/y")
        #expect(ArchivePath.claimedDigest(of: "blobs/sha256/" + String(repeating: "a", count: 64)) == "sha256:" + String(repeating: "a", count: 64))
        #expect(ArchivePath.claimedDigest(of: String(repeating: "b", count: 64) + ".json") == "sha256:" + String(repeating: "b", count: 64))
        #expect(ArchivePath.claimedDigest(of: "manifest.json") == nil)
        #expect(ArchivePath.blobPath(forDigest: "sha256:abc") == "blobs/sha256/abc")
        #expect(ArchivePath.blobPath(forDigest: "sha256:../../etc") == nil)
    }
}
