import ECRLogin
import Foundation

/// What a push produced, for people (the last stdout lines), machines (`--output json`) and CI (`$GITHUB_OUTPUT`).
package struct PushedImage: Sendable, Equatable, Codable {
    package var registry: String
    package var repository: String
    package var tags: [String]
    /// `sha256:<hex>` of the manifest as the registry stores it.
    package var digest: String
    /// `<registry>/<repository>@<digest>`: pins exactly what was pushed.
    package var imageUri: String

    package init(registry: String, repository: String, tags: [String], digest: String) {
        self.registry = registry
        self.repository = repository
        self.tags = tags
        self.digest = digest
        self.imageUri = RepositoryLocation(registry: registry, repository: repository).pinned(digest)
    }

    package var location: RepositoryLocation { RepositoryLocation(registry: registry, repository: repository) }

    package func taggedReferences() -> [String] { tags.map { location.tagged($0) } }

    /// The lines printed on stdout: one per tag, then the digest reference last.
    package var stdoutLines: [String] { taggedReferences() + [imageUri] }

    /// Appends `image`, `digest` and `registry` to the file GitHub Actions names in `$GITHUB_OUTPUT` (created when
    /// missing, as `>>` would). Called once the push is done, so a failure says that the image is pushed.
    package func appendGitHubOutput(path: String) throws(ECRPushError) {
        let lines = "image=\(imageUri)\ndigest=\(digest)\nregistry=\(registry)\n"
        do {
            try GitHubOutput.append(lines, to: path)
        } catch {
            // `append` fails only as gitHubOutputUnwritable; whatever it says goes after "the image was pushed".
            var detail = error.description
            if case .gitHubOutputUnwritable(_, let why) = error { detail = why }
            throw .pushedButGitHubOutputUnwritable(imageUri: imageUri, path: path, detail: detail)
        }
    }
}

/// One platform's image of a multi-platform push (`--platform a,b`): pushed by digest, named by the index under the
/// tags.
package struct PlatformImage: Sendable, Equatable, Encodable {
    /// `os/arch[/variant]`, from the image's config.
    package var platform: String
    /// `sha256:<hex>` of its manifest.
    package var digest: String
    /// Its manifest's media type (Docker v2 for gzip layers, OCI for zstd).
    package var mediaType: String

    package init(platform: String, digest: String, mediaType: String) {
        self.platform = platform
        self.digest = digest
        self.mediaType = mediaType
    }
}
