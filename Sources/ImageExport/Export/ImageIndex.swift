import Hashing

/// A platform, `os/architecture[/variant]`: what `--platform` asks the Engine for, and what an index entry records
/// (from the image's config).
package struct ImagePlatform: Sendable, Hashable, CustomStringConvertible {
    package var os: String
    package var architecture: String
    /// `v7` in linux/arm/v7; nil when there is none.
    package var variant: String?

    package init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant?.isEmpty == true ? nil : variant
    }

    /// `os/arch` or `os/arch/variant`, each part letters, digits, `.`, `_` or `-` (any case, kept lowercase); nil
    /// for anything else (a bare `arm64`, an empty part, a fourth part).
    package init?(parsing text: String) {
        let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (2...3).contains(parts.count) else { return nil }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        for part in parts where part.isEmpty || !part.allSatisfy({ allowed.contains($0) }) { return nil }
        self.init(os: parts[0], architecture: parts[1], variant: parts.count == 3 ? parts[2] : nil)
    }

    /// `--platform a,b,…`: every entry `os/arch[/variant]`, none twice (aliases included: linux/x86_64 is
    /// linux/amd64).
    package static func list(_ text: String) throws(PlatformListError) -> [ImagePlatform] {
        var platforms: [ImagePlatform] = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = String(entry.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            guard !trimmed.isEmpty else { throw PlatformListError(message: "'\(text)' has an empty entry") }
            guard let platform = ImagePlatform(parsing: trimmed) else {
                throw PlatformListError(message: "'\(trimmed)' is not os/arch[/variant] (e.g. linux/amd64, linux/arm64, linux/arm/v7)")
            }
            if let earlier = platforms.first(where: { $0.normalized == platform.normalized }) {
                throw PlatformListError(message: "'\(trimmed)' is given twice (as '\(earlier)')")
            }
            platforms.append(platform)
        }
        return platforms
    }

    /// `os/arch[/variant]`.
    package var description: String { [os, architecture, variant].compactMap { $0 }.joined(separator: "/") }

    /// As containerd compares platforms: architecture aliases spelled as Go spells them (x86_64 is amd64, aarch64
    /// arm64), arm64's `v8` and amd64's `v1` dropped, arm's missing variant `v7`.
    package var normalized: ImagePlatform {
        var architecture = self.architecture.lowercased()
        var variant = self.variant?.lowercased()
        switch architecture {
        case "x86_64", "x86-64", "amd64":
            architecture = "amd64"
            if variant == "v1" { variant = nil }
        case "aarch64", "arm64":
            architecture = "arm64"
            if ["8", "v8", "v8.0"].contains(variant ?? "") { variant = nil }
        case "armhf":
            architecture = "arm"
            variant = "v7"
        case "armel":
            architecture = "arm"
            variant = "v6"
        case "arm":
            if let bare = variant, ["5", "6", "7", "8"].contains(bare) { variant = "v" + bare }
            variant = variant ?? "v7"
        case "i386", "i686", "x86": architecture = "386"
        default: break
        }
        return ImagePlatform(os: os.lowercased(), architecture: architecture, variant: variant)
    }

    /// Whether an image of this platform (from its config) is what `requested` asked for: the same os and
    /// architecture, and the variant when one was asked for.
    package func satisfies(_ requested: ImagePlatform) -> Bool {
        let (have, want) = (normalized, requested.normalized)
        guard have.os == want.os, have.architecture == want.architecture else { return false }
        return requested.variant == nil || have.variant == want.variant
    }
}

/// Why a `--platform` list was refused.
package struct PlatformListError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

extension ImageManifest {
    package static let dockerManifestListMediaType = "application/vnd.docker.distribution.manifest.list.v2+json"
    package static let ociIndexMediaType = "application/vnd.oci.image.index.v1+json"

    /// One platform's image in an index: its manifest and the platform its config names.
    package struct IndexEntry: Sendable, Equatable {
        package var digest: String
        package var size: Int64
        package var mediaType: String
        package var platform: ImagePlatform

        package init(digest: String, size: Int64, mediaType: String, platform: ImagePlatform) {
            self.digest = digest
            self.size = size
            self.mediaType = mediaType
            self.platform = platform
        }

        package init(_ manifest: ImageManifest, platform: ImagePlatform) {
            self.init(digest: manifest.digest, size: Int64(manifest.bytes.count), mediaType: manifest.mediaType, platform: platform)
        }
    }

    /// The index naming one image per platform: a Docker manifest list when every entry is a Docker v2 manifest
    /// (the gzip path), else an OCI image index (zstd images have OCI manifests). Compact JSON with a fixed key order
    /// (schemaVersion, mediaType, manifests; each entry mediaType, size, digest, platform {architecture, os,
    /// variant}), as docker writes them, so the same images always give the same index digest.
    package static func index(_ entries: [IndexEntry]) -> ImageManifest {
        let docker = entries.allSatisfy { $0.mediaType == dockerV2MediaType }
        let mediaType = docker ? dockerManifestListMediaType : ociIndexMediaType
        let manifests = entries.map { entry in
            var platform = "\"architecture\":\(jsonString(entry.platform.architecture)),\"os\":\(jsonString(entry.platform.os))"
            if let variant = entry.platform.variant { platform += ",\"variant\":\(jsonString(variant))" }
            return "{\"mediaType\":\(jsonString(entry.mediaType)),\"size\":\(entry.size),\"digest\":\(jsonString(entry.digest)),"
                + "\"platform\":{\(platform)}}"
        }
        let text = "{\"schemaVersion\":2,\"mediaType\":\(jsonString(mediaType)),\"manifests\":[\(manifests.joined(separator: ","))]}"
        let bytes = Array(text.utf8)
        return ImageManifest(bytes: bytes, mediaType: mediaType, digest: SHA256.hash(bytes).ociDigest)
    }
}
