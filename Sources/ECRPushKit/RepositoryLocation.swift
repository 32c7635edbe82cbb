/// A repository in a registry, `host[:port]/name`: the one place image references of the push path are made and
/// taken apart (tags the build gives, what the Engine pushes, the result, a base's RepoDigest).
package struct RepositoryLocation: Sendable, Hashable, CustomStringConvertible {
    /// `host[:port]`.
    package var registry: String
    package var repository: String

    package init(registry: String, repository: String) {
        self.registry = registry
        self.repository = repository
    }

    /// `host[:port]/name@sha256:…` (a RepoDigest) as its location and digest; nil when it is not one. The first
    /// path component is the registry, as in every RepoDigest the Engine records for a registry image.
    package init?(pinned reference: String) {
        let parts = reference.split(separator: "@", maxSplits: 1).map(String.init)
        guard parts.count == 2, parts[1].hasPrefix("sha256:"), let slash = parts[0].firstIndex(of: "/") else { return nil }
        registry = String(parts[0][..<slash])
        repository = String(parts[0][parts[0].index(after: slash)...])
        guard !registry.isEmpty, !repository.isEmpty else { return nil }
    }

    /// `host[:port]/name`.
    package var description: String { "\(registry)/\(repository)" }
    /// `host[:port]/name:tag`.
    package func tagged(_ tag: String) -> String { "\(self):\(tag)" }
    /// `host[:port]/name@sha256:…`.
    package func pinned(_ digest: String) -> String { "\(self)@\(digest)" }
}
