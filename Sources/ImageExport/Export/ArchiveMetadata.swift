import Foundation

/// One element of `manifest.json` (`docker save`, all Engine versions).
struct DockerSaveManifestEntry: Decodable {
    let config: String
    let repoTags: [String]?
    let layers: [String]

    enum CodingKeys: String, CodingKey {
        case config = "Config"
        case repoTags = "RepoTags"
        case layers = "Layers"
    }
}

/// An OCI content descriptor (also used for Docker manifest lists).
struct OCIDescriptor: Decodable {
    struct Platform: Decodable {
        let architecture: String
        let os: String
        let variant: String?

        var imagePlatform: ImagePlatform { ImagePlatform(os: os, architecture: architecture, variant: variant) }
    }

    let mediaType: String?
    let digest: String
    let size: Int64?
    let annotations: [String: String]?
    let platform: Platform?

    static let imageNameAnnotation = "io.containerd.image.name"
    static let refNameAnnotation = "org.opencontainers.image.ref.name"

    /// Names this descriptor carries: the full name containerd/Docker record, else the OCI ref name.
    var names: [String] {
        if let name = annotations?[Self.imageNameAnnotation] { return [name] }
        if let ref = annotations?[Self.refNameAnnotation] { return [ref] }
        return []
    }

    /// BuildKit attaches provenance/SBOM manifests to indexes with platform unknown/unknown.
    var isAttestation: Bool {
        annotations?["vnd.docker.reference.type"] == "attestation-manifest"
            || (platform?.os == "unknown" && platform?.architecture == "unknown")
    }
}

/// An OCI image index or Docker manifest list, or an image manifest: decoded together because a
/// descriptor's media type may be missing and only the content tells which one it is.
struct OCIManifestOrIndex: Decodable {
    let mediaType: String?
    let manifests: [OCIDescriptor]?
    let config: OCIDescriptor?
    let layers: [OCIDescriptor]?
}

/// The parts of an image config this module checks (and a push reads from a registry's config).
package struct ImageConfigRootFS: Decodable, Sendable {
    package struct RootFS: Decodable, Sendable {
        package let type: String?
        package let diffIDs: [String]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    package let rootfs: RootFS
}

enum MetadataDecoding {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], path: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw ImageExportError.invalidMetadata(path: path, reason: describe(error))
        } catch {
            throw ImageExportError.invalidMetadata(path: path, reason: "\(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func location(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "" : " at \(path)"
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \"\(key.stringValue)\"\(location(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "unexpected value\(location(context))"
        case .dataCorrupted(let context): return "not valid JSON\(location(context))"
        @unknown default: return "\(error)"
        }
    }
}

/// Docker-style reference matching: "busybox" and "docker.io/library/busybox:latest" are the same image.
enum ImageReferenceName {
    static func normalize(_ reference: String) -> String {
        var name = reference
        var suffix = ""
        if let at = name.firstIndex(of: "@") {
            suffix = String(name[at...])
            name = String(name[..<at])
        }
        let hasTag: Bool = {
            guard let colon = name.lastIndex(of: ":") else { return false }
            guard let slash = name.lastIndex(of: "/") else { return true }
            return colon > slash  // a colon before the last slash is a registry port
        }()
        if suffix.isEmpty && !hasTag { suffix = ":latest" }
        let firstComponent = name.split(separator: "/", maxSplits: 1).first.map(String.init) ?? name
        let hasDomain =
            name.contains("/")
            && (firstComponent.contains(".") || firstComponent.contains(":") || firstComponent == "localhost")
        if !hasDomain {
            name = name.contains("/") ? "docker.io/" + name : "docker.io/library/" + name
        }
        return name + suffix
    }

    static func matches(_ candidate: String, _ reference: String) -> Bool {
        candidate == reference || normalize(candidate) == normalize(reference)
    }
}
