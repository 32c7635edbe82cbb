import Foundation

/// What a push produced, for people (the last stdout lines), machines (`--output json`) and CI (`$GITHUB_OUTPUT`).
public struct PushedImage: Sendable, Equatable, Codable {
    public var registry: String
    public var repository: String
    public var tags: [String]
    /// `sha256:<hex>` of the manifest as the registry stores it.
    public var digest: String
    /// `<registry>/<repository>@<digest>`: pins exactly what was pushed.
    public var imageUri: String

    public init(registry: String, repository: String, tags: [String], digest: String) {
        self.registry = registry
        self.repository = repository
        self.tags = tags
        self.digest = digest
        self.imageUri = "\(registry)/\(repository)@\(digest)"
    }

    public func taggedReferences() -> [String] { tags.map { "\(registry)/\(repository):\($0)" } }

    /// The lines printed on stdout: one per tag, then the digest reference last.
    public var stdoutLines: [String] { taggedReferences() + [imageUri] }

    /// Appends `image`, `digest` and `registry` to the file GitHub Actions names in `$GITHUB_OUTPUT`.
    public func appendGitHubOutput(path: String) throws {
        let lines = "image=\(imageUri)\ndigest=\(digest)\nregistry=\(registry)\n"
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw ECRPushError.invalidArgument("cannot open $GITHUB_OUTPUT file \(path) for appending")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(lines.utf8))
    }
}
