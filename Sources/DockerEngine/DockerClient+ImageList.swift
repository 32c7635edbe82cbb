import Foundation

/// One entry of `GET /images/json`.
package struct ImageSummary: Sendable, Equatable, Decodable {
    package var id: String
    /// `repository:tag` names.
    package var repoTags: [String]
    /// `host[:port]/repository@sha256:…` for each registry the image was pulled from or pushed to.
    package var repoDigests: [String]
    /// Bytes of its layers, uncompressed (nil when the Engine does not say).
    package var size: Int64?

    enum CodingKeys: String, CodingKey { case id = "Id", repoTags = "RepoTags", repoDigests = "RepoDigests", size = "Size" }

    package init(id: String, repoTags: [String] = [], repoDigests: [String], size: Int64? = nil) {
        self.id = id
        self.repoTags = repoTags
        self.repoDigests = repoDigests
        self.size = size
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        // An untagged image lists "<none>:<none>" (older Engines) or nothing.
        repoTags = (try container.decodeIfPresent([String].self, forKey: .repoTags) ?? []).filter { !$0.hasPrefix("<none>") }
        // Untagged images list "<none>@<none>": a placeholder, not a registry.
        repoDigests = (try container.decodeIfPresent([String].self, forKey: .repoDigests) ?? []).filter { !$0.hasPrefix("<none>") }
        size = try container.decodeIfPresent(Int64.self, forKey: .size)
    }
}

/// One entry of `GET /images/{name}/history`: a step of the image's making, newest first.
package struct ImageHistoryEntry: Sendable, Equatable, Decodable {
    /// Bytes of the layer the step made (0 for a step that made none, such as ENV).
    package var size: Int64

    enum CodingKeys: String, CodingKey { case size = "Size" }

    package init(size: Int64) { self.size = size }
}

extension DockerClient {
    /// `GET /images/json`: every local image, with the registry digests the Engine knows for it (`RepoDigests`
    /// comes without asking; the legacy `digests=1` makes podman's compat API answer 200 with an empty body).
    package func listImages() async throws -> [ImageSummary] {
        let response = try await call("GET", "/images/json")
        try DockerClient.requireSuccess(response)
        return try DockerClient.decode([ImageSummary].self, from: response.body, what: "listing images")
    }

    /// `GET /images/{name}/history`, newest step first.
    package func imageHistory(_ name: String) async throws -> [ImageHistoryEntry] {
        try DockerClient.requireImageName(name)
        let response = try await call("GET", "/images/\(URLEncoding.pathComponent(name))/history")
        if response.status == 404 { throw DockerError.imageNotFound(name) }
        try DockerClient.requireSuccess(response)
        return try DockerClient.decode([ImageHistoryEntry].self, from: response.body, what: "reading the history of \(name)")
    }

    /// The registry host of a `RepoDigests` entry or image name, as docker reads it: the first path component
    /// when it has a dot or a port or is `localhost`, else Docker Hub (`docker.io`).
    package static func registryHost(ofReference reference: String) -> String {
        let name = reference.split(separator: "@", maxSplits: 1).first.map(String.init) ?? reference
        guard let slash = name.firstIndex(of: "/") else { return "docker.io" }
        let first = name[..<slash]
        return first.contains(".") || first.contains(":") || first == "localhost" ? String(first) : "docker.io"
    }

    /// A RepoDigest with its registry spelled out, as the Engine abbreviates Docker Hub's: `busybox@sha256:…` is
    /// `docker.io/library/busybox@sha256:…`, `team/app@…` is `docker.io/team/app@…`; others are unchanged.
    package static func canonicalReference(_ reference: String) -> String {
        guard registryHost(ofReference: reference) == "docker.io", !reference.hasPrefix("docker.io/") else { return reference }
        let name = reference.split(separator: "@", maxSplits: 1).first.map(String.init) ?? reference
        return "docker.io/" + (name.contains("/") ? "" : "library/") + reference
    }
}
