/// Paths inside an image archive, in one canonical form: relative, no "." or empty segments, ".." resolved.
enum ArchivePath {
    static func normalize(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": if !segments.isEmpty { segments.removeLast() }
            default: segments.append(segment)
            }
        }
        return segments.joined(separator: "/")
    }

    /// Where a symlink at `linkPath` pointing to `target` leads (targets are relative to the link's directory).
    static func resolveSymlink(at linkPath: String, target: String) -> String {
        if target.hasPrefix("/") { return normalize(target) }
        let directory = linkPath.split(separator: "/").dropLast().joined(separator: "/")
        return normalize(directory.isEmpty ? target : directory + "/" + target)
    }

    /// "sha256:<hex>" → "blobs/sha256/<hex>", the OCI image layout's blob path.
    static func blobPath(forDigest digest: String) -> String? {
        let parts = digest.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !parts[1].contains("/") else { return nil }
        return "blobs/\(parts[0])/\(parts[1])"
    }

    /// The sha256 digest a path claims for its content: "blobs/sha256/<hex>" or a legacy config "<hex>.json".
    static func claimedDigest(of path: String) -> String? {
        let segments = path.split(separator: "/")
        if segments.count == 3, segments[0] == "blobs", segments[1] == "sha256", isSHA256Hex(segments[2]) {
            return "sha256:" + segments[2]
        }
        if segments.count == 1, path.hasSuffix(".json") {
            let stem = path.dropLast(5)
            if isSHA256Hex(stem) { return "sha256:" + stem }
        }
        return nil
    }

    private static func isSHA256Hex(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
