/// What to send to `POST /build`: a directory, and the Dockerfile to build it with.
package struct BuildContext: Sendable, Equatable {
    /// The context directory; relative paths are taken from the current directory.
    package var directory: String
    /// The Dockerfile, absolute or relative to the current directory (as `docker build -f` takes it); it may lie
    /// outside the context. nil: `Dockerfile` (or `dockerfile`) at the context's root.
    package var dockerfile: String?

    package init(directory: String, dockerfile: String? = nil) {
        self.directory = directory
        self.dockerfile = dockerfile
    }
}

package struct BuildOptions: Sendable, Equatable {
    /// Repository:tag names for the result (each validated before the build starts).
    package var tags: [String]
    package var buildArgs: [String: String]
    package var labels: [String: String]
    /// The stage of a multi-stage Dockerfile to stop at.
    package var target: String?
    /// e.g. `linux/amd64`.
    package var platform: String?
    package var noCache: Bool
    /// Always try to pull newer base images.
    package var pull: Bool
    /// Network mode for RUN steps (`none`, `host`, a network name); nil is the daemon's default.
    package var networkMode: String?
    /// Build with BuildKit (`version=2`) instead of the classic builder. Progress then comes as `.trace` events.
    package var buildKit: Bool = false
    /// The BuildKit session that serves secrets and registry logins to this build (`session`).
    package var sessionID: String?
    /// Images whose cache metadata BuildKit may reuse (`cachefrom`), e.g. the last pushed image.
    package var cacheFrom: [String] = []
    /// Remove intermediate containers after a successful build (`rm`).
    package var removeIntermediateContainers: Bool
    /// Remove intermediate containers even when the build fails (`forcerm`).
    package var forceRemoveIntermediateContainers: Bool

    package init(
        tags: [String] = [], buildArgs: [String: String] = [:], labels: [String: String] = [:],
        target: String? = nil, platform: String? = nil, noCache: Bool = false, pull: Bool = false,
        networkMode: String? = nil, removeIntermediateContainers: Bool = true,
        forceRemoveIntermediateContainers: Bool = true
    ) {
        self.tags = tags
        self.buildArgs = buildArgs
        self.labels = labels
        self.target = target
        self.platform = platform
        self.noCache = noCache
        self.pull = pull
        self.networkMode = networkMode
        self.removeIntermediateContainers = removeIntermediateContainers
        self.forceRemoveIntermediateContainers = forceRemoveIntermediateContainers
    }
}

/// Progress (current/total bytes) of one layer or step, as the daemon reports it.
package struct ProgressDetail: Sendable, Equatable {
    package var current: Int64?
    package var total: Int64?

    package init(current: Int64?, total: Int64?) {
        self.current = current
        self.total = total
    }
}

/// One line of build output, as it arrives.
package enum BuildEvent: Sendable, Equatable {
    /// Text the build prints (`stream`): step headers, RUN output. Usually ends with a newline.
    case output(String)
    /// A status line, e.g. while pulling a base image (`status`, with the layer `id` and progress if any).
    case status(id: String?, status: String, progress: ProgressDetail?)
    /// One BuildKit progress update: base64 of a protobuf `StatusResponse` (`{"id":"moby.buildkit.trace","aux":…}`),
    /// for a module that knows BuildKit's types to decode.
    case trace(String)
    /// The built image's ID (`aux.ID`).
    case imageID(String)
    /// The daemon reported a failure; the build then throws `DockerError.buildFailed` with this message.
    case error(message: String)
}

package struct BuildResult: Sendable, Equatable {
    /// The image ID, `sha256:<hex>`.
    package var imageID: String
    /// The tags asked for.
    package var tags: [String]

    package init(imageID: String, tags: [String]) {
        self.imageID = imageID
        self.tags = tags
    }
}
