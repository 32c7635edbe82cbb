import Foundation
import Testing

@testable import ImageExport

/// `--platform` lists and the index naming one image per platform: exact, deterministic bytes that registries and
/// docker read.
@Suite struct ImageIndexTests {
    @Test func platformsAreParsedAsOSArchitectureAndVariant() throws {
        #expect(ImagePlatform(parsing: "linux/amd64") == ImagePlatform(os: "linux", architecture: "amd64"))
        #expect(ImagePlatform(parsing: "Linux/ARM/v7") == ImagePlatform(os: "linux", architecture: "arm", variant: "v7"))
        #expect(ImagePlatform(parsing: "linux/arm64/v8")?.description == "linux/arm64/v8")
        for bad in ["linux", "arm64", "linux/", "/amd64", "linux//v7", "linux/arm/v7/x", "linux/amd 64", "linux/amd64;", ""] {
            #expect(ImagePlatform(parsing: bad) == nil, "\(bad)")
        }
        #expect(ImagePlatform(os: "linux", architecture: "arm64", variant: "").variant == nil, "the Engine's empty variant is none")
    }

    @Test func platformListsAreCheckedWhole() throws {
        #expect(try ImagePlatform.list("linux/amd64,linux/arm64").map(\.description) == ["linux/amd64", "linux/arm64"])
        #expect(try ImagePlatform.list("linux/amd64, linux/arm/v7").map(\.description) == ["linux/amd64", "linux/arm/v7"])
        func refusal(_ text: String) -> String? {
            do {
                _ = try ImagePlatform.list(text)
                return nil
            } catch {
                return error.description
            }
        }
        #expect(refusal("linux/amd64,arm64")?.contains("'arm64' is not os/arch[/variant]") == true)
        #expect(refusal("linux/amd64,")?.contains("empty entry") == true)
        #expect(refusal("linux/amd64,linux/amd64")?.contains("given twice") == true)
        #expect(refusal("linux/x86_64,linux/amd64")?.contains("given twice (as 'linux/x86_64')") == true, "aliases are the same platform")
        #expect(refusal("linux/arm64,linux/arm64/v8")?.contains("given twice") == true)
    }

    /// What an image's config says against what was asked for: aliases and default variants as containerd has them.
    @Test func builtPlatformSatisfiesTheRequestedOne() throws {
        let arm64 = ImagePlatform(os: "linux", architecture: "arm64")
        #expect(ImagePlatform(os: "linux", architecture: "aarch64").satisfies(arm64))
        #expect(ImagePlatform(os: "linux", architecture: "arm64", variant: "v8").satisfies(arm64))
        #expect(!ImagePlatform(os: "linux", architecture: "amd64").satisfies(arm64))
        #expect(!ImagePlatform(os: "windows", architecture: "arm64").satisfies(arm64))
        let armv7 = ImagePlatform(os: "linux", architecture: "arm", variant: "v7")
        #expect(ImagePlatform(os: "linux", architecture: "arm", variant: "v7").satisfies(ImagePlatform(os: "linux", architecture: "arm")))
        #expect(!ImagePlatform(os: "linux", architecture: "arm", variant: "v6").satisfies(armv7))
    }

    static let amd64 = ImageManifest.IndexEntry(
        digest: "sha256:" + String(repeating: "a", count: 64), size: 528, mediaType: ImageManifest.dockerV2MediaType,
        platform: ImagePlatform(os: "linux", architecture: "amd64"))
    static let armv7 = ImageManifest.IndexEntry(
        digest: "sha256:" + String(repeating: "b", count: 64), size: 529, mediaType: ImageManifest.dockerV2MediaType,
        platform: ImagePlatform(os: "linux", architecture: "arm", variant: "v7"))

    /// Docker v2 manifests (the gzip path) get a Docker manifest list, in the key order docker writes.
    @Test func dockerManifestListForDockerManifests() throws {
        let index = ImageManifest.index([Self.amd64, Self.armv7])
        #expect(index.mediaType == "application/vnd.docker.distribution.manifest.list.v2+json")
        #expect(
            String(decoding: index.bytes, as: UTF8.self)
                == #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":["#
                + #"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,"#
                + #""digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","#
                + #""platform":{"architecture":"amd64","os":"linux"}},"#
                + #"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":529,"#
                + #""digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","#
                + #""platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}"#)
        #expect(index.digest == sha256(index.bytes))
        #expect(ImageManifest.index([Self.amd64, Self.armv7]) == index, "deterministic")
        // It parses as JSON with the entries in order.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(index.bytes)) as? [String: Any])
        let entries = try #require(object["manifests"] as? [[String: Any]])
        #expect(entries.compactMap { $0["digest"] as? String } == [Self.amd64.digest, Self.armv7.digest])
    }

    /// OCI manifests (zstd layers) get an OCI image index.
    @Test func ociIndexForOCIManifests() throws {
        var amd64 = Self.amd64
        amd64.mediaType = ImageManifest.ociManifestMediaType
        var armv7 = Self.armv7
        armv7.mediaType = ImageManifest.ociManifestMediaType
        let index = ImageManifest.index([amd64, armv7])
        #expect(index.mediaType == "application/vnd.oci.image.index.v1+json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(index.bytes)) as? [String: Any])
        #expect(object["schemaVersion"] as? Int == 2)
        #expect(object["mediaType"] as? String == "application/vnd.oci.image.index.v1+json")
        let entries = try #require(object["manifests"] as? [[String: Any]])
        #expect(entries.allSatisfy { $0["mediaType"] as? String == "application/vnd.oci.image.manifest.v1+json" })
        #expect(
            entries.map { ($0["platform"] as? [String: String]) ?? [:] } == [
                ["architecture": "amd64", "os": "linux"], ["architecture": "arm", "os": "linux", "variant": "v7"]
            ])
        // A mixed list (not made by a push, but possible) is an OCI index too: a Docker list names Docker manifests only.
        #expect(ImageManifest.index([Self.amd64, armv7]).mediaType == ImageManifest.ociIndexMediaType)
    }
}
