/// The parts of `GET /images/{name}/json` a push needs.
package struct ImageInspect: Sendable, Equatable, Decodable {
    package struct RootFS: Sendable, Equatable, Decodable {
        package var type: String
        /// Uncompressed layer digests (diff IDs), bottom first.
        package var layers: [String]

        enum CodingKeys: String, CodingKey { case type = "Type", layers = "Layers" }

        package init(type: String, layers: [String]) {
            self.type = type
            self.layers = layers
        }

        package init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decodeIfPresent(String.self, forKey: .type) ?? ""
            layers = try container.decodeIfPresent([String].self, forKey: .layers) ?? []
        }
    }

    /// `sha256:<hex>`.
    package var id: String
    package var repoTags: [String]
    package var repoDigests: [String]
    /// Bytes, uncompressed.
    package var size: Int64
    package var architecture: String?
    package var os: String?
    /// The CPU variant (`v7` for linux/arm/v7, `v8` for some arm64 images); the Engine omits it when there is none.
    package var variant: String?
    package var created: String?
    /// The image's labels (`Config.Labels`).
    package var labels: [String: String]
    package var rootFS: RootFS

    enum CodingKeys: String, CodingKey {
        case id = "Id", repoTags = "RepoTags", repoDigests = "RepoDigests", size = "Size"
        case architecture = "Architecture", os = "Os", variant = "Variant", created = "Created", config = "Config", rootFS = "RootFS"
    }

    private struct Config: Decodable {
        var labels: [String: String]?
        enum CodingKeys: String, CodingKey { case labels = "Labels" }
    }

    package init(
        id: String, repoTags: [String], repoDigests: [String], size: Int64, architecture: String? = nil,
        os: String? = nil, variant: String? = nil, created: String? = nil, labels: [String: String] = [:], rootFS: RootFS
    ) {
        self.id = id
        self.repoTags = repoTags
        self.repoDigests = repoDigests
        self.size = size
        self.architecture = architecture
        self.os = os
        self.variant = variant
        self.created = created
        self.labels = labels
        self.rootFS = rootFS
    }

    package init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        // The daemon sends null rather than [] for an untagged image.
        repoTags = try container.decodeIfPresent([String].self, forKey: .repoTags) ?? []
        repoDigests = try container.decodeIfPresent([String].self, forKey: .repoDigests) ?? []
        size = try container.decodeIfPresent(Int64.self, forKey: .size) ?? 0
        architecture = try container.decodeIfPresent(String.self, forKey: .architecture)
        os = try container.decodeIfPresent(String.self, forKey: .os)
        variant = try container.decodeIfPresent(String.self, forKey: .variant)
        created = try container.decodeIfPresent(String.self, forKey: .created)
        labels = (try? container.decodeIfPresent(Config.self, forKey: .config))?.labels ?? [:]
        rootFS = try container.decodeIfPresent(RootFS.self, forKey: .rootFS) ?? RootFS(type: "", layers: [])
    }

    /// The layer diff IDs, bottom first.
    package var layers: [String] { rootFS.layers }
}

/// What `GET /_ping` says about the daemon.
package struct DockerPing: Sendable, Equatable {
    /// The newest API version the daemon speaks (`API-Version`), if it said.
    package var apiVersion: String?
    /// `linux` or `windows` (`OSType`).
    package var osType: String?
    /// The version this client will use: the lower of the daemon's and its own, or the pinned one.
    package var negotiatedVersion: String
    /// Podman's compat API (`Libpod-API-Version`): it takes `version=2` but builds with buildah, never BuildKit.
    package var isPodman: Bool = false

    /// Whether `POST /build?version=2` runs BuildKit here: API 1.39 (Docker 18.09) or later on Linux, not podman.
    package var supportsBuildKit: Bool {
        guard !isPodman, osType == nil || osType == "linux", let version = APIVersion(negotiatedVersion) else { return false }
        return version >= APIVersion("1.39")!
    }
}

/// `GET /version`.
package struct DockerVersion: Sendable, Equatable, Decodable {
    package var version: String
    package var apiVersion: String
    package var minAPIVersion: String?
    package var os: String
    package var arch: String
    package var kernelVersion: String?

    enum CodingKeys: String, CodingKey {
        case version = "Version", apiVersion = "ApiVersion", minAPIVersion = "MinAPIVersion"
        case os = "Os", arch = "Arch", kernelVersion = "KernelVersion"
    }

    package init(version: String, apiVersion: String, minAPIVersion: String?, os: String, arch: String, kernelVersion: String?) {
        self.version = version
        self.apiVersion = apiVersion
        self.minAPIVersion = minAPIVersion
        self.os = os
        self.arch = arch
        self.kernelVersion = kernelVersion
    }

    package init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decodeIfPresent(String.self, forKey: .version) ?? ""
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion) ?? ""
        minAPIVersion = try container.decodeIfPresent(String.self, forKey: .minAPIVersion)
        os = try container.decodeIfPresent(String.self, forKey: .os) ?? ""
        arch = try container.decodeIfPresent(String.self, forKey: .arch) ?? ""
        kernelVersion = try container.decodeIfPresent(String.self, forKey: .kernelVersion)
    }
}
