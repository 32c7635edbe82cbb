import Foundation
import Hashing

/// Writes an OCI image layout directory (oci-layout, blobs/sha256/..., index.json) the way Engine 25+
/// and BuildKit lay it out, for archives the test packs with the real tar.
struct OCILayoutBuilder {
    let root: String

    init(root: String) throws {
        self.root = root
        try writeFile(root + "/oci-layout", #"{"imageLayoutVersion":"1.0.0"}"#)
    }

    /// Stores a blob under its digest; returns a descriptor for it.
    @discardableResult
    func blob(_ bytes: [UInt8], mediaType: String, extra: [String: Any] = [:]) throws -> [String: Any] {
        let digest = SHA256.hash(bytes)
        try writeFile(root + "/blobs/sha256/" + digest.hex, bytes)
        return ["mediaType": mediaType, "digest": digest.ociDigest, "size": bytes.count].merging(extra) { _, new in new }
    }

    func json(_ object: Any) throws -> [UInt8] {
        [UInt8](try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    func manifest(config: [String: Any], layers: [[String: Any]]) throws -> [String: Any] {
        let body: [String: Any] = [
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config, "layers": layers
        ]
        return try blob(try json(body), mediaType: "application/vnd.oci.image.manifest.v1+json")
    }

    func imageIndex(_ manifests: [[String: Any]]) throws -> [String: Any] {
        let body: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests]
        return try blob(try json(body), mediaType: "application/vnd.oci.image.index.v1+json")
    }

    func writeIndex(_ manifests: [[String: Any]]) throws {
        let body: [String: Any] = ["schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests]
        try writeFile(root + "/index.json", try json(body))
    }

    /// Engine 25+ also writes a docker-style manifest.json pointing into blobs/.
    func writeDockerManifest(config: String, layers: [String], repoTags: [String]) throws {
        let paths = { (digest: String) in "blobs/sha256/" + digest.dropFirst("sha256:".count) }
        let body: [[String: Any]] = [["Config": paths(config), "RepoTags": repoTags, "Layers": layers.map(paths)]]
        try writeFile(root + "/manifest.json", try json(body))
    }
}
