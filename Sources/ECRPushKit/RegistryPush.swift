import DockerEngine
import ECRLogin
import Foundation
import HTTPTransport
import ImageExport
import RegistryClient

/// Pushes an image from the Docker Engine to the registry endpoint over the OCI distribution API, with the
/// ECR token's basic-auth login: the image is read from the Engine once, each layer compressed once, and up
/// to `settings.jobs` blobs go up at the same time, each as one streaming request from its file, starting while the
/// Engine is still sending the layers after it.
package struct RegistryPush: Sendable {
    package private(set) var registry: RegistryClient
    package let docker: DockerClient
    package var settings: ExportSettings
    /// How base images in other registries are read (nil: only bases in the destination registry are reused).
    package var sources: SourceRegistries?

    package init(registry: RegistryClient, docker: DockerClient, settings: ExportSettings = ExportSettings()) {
        self.registry = registry
        self.docker = docker
        self.settings = settings
    }

    /// The registry behind an ECR login: its proxyEndpoint (or `endpoint`, e.g. `--registry`), with the login's
    /// `AWS:<password>` as basic auth (kept in memory, sent only in the Authorization header, only to the
    /// registry's origin). `freshLogin` is asked once when the registry refuses the login mid-push (a token that
    /// expired or was rotated during a long push).
    package init(
        login: RegistryLogin, endpoint: String? = nil, docker: DockerClient, settings: ExportSettings = ExportSettings(),
        http: HTTPClient = HTTPClient(), retryPolicy: RegistryRetryPolicy = RegistryRetryPolicy(),
        freshLogin: (@Sendable () async throws -> RegistryLogin)? = nil
    ) {
        var refresh: (@Sendable () async throws -> RegistryCredentials)?
        if let freshLogin {
            refresh = {
                let fresh = try await freshLogin()
                return RegistryCredentials(username: fresh.username, password: fresh.password)
            }
        }
        var client = RegistryClient(
            baseURL: endpoint ?? login.proxyEndpoint,
            credentials: RegistryCredentials(username: login.username, password: login.password), http: http,
            refreshLogin: refresh)
        client.retryPolicy = retryPolicy
        self.init(registry: client, docker: docker, settings: settings)
    }

    /// `registryName` names the result (`<registryName>/<repository>@<digest>`). Every retry is said as an
    /// info event before its wait. `estimate` (from `estimate(localImage:registryName:)`) spares a second look-up
    /// of the image's ancestor.
    package func push(
        localImage: String, destination: PushDestination, registryName: String, estimate: TransportEstimate? = nil,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage {
        var reporting = self
        reporting.registry.onRetry = { onEvent(.info($0.description)) }
        return try await reporting.run(
            localImage: localImage, destination: destination, registryName: registryName, estimate: estimate, onEvent: onEvent)
    }

    private func run(
        localImage: String, destination: PushDestination, registryName: String, estimate: TransportEstimate?,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage {
        guard let inspected = try await docker.inspectImage(localImage) else { throw DockerError.imageNotFound(localImage) }
        if let remembered = RememberedImage(cache: settings.blobCache, image: inspected, registry: settings.cacheScope(registryName)),
            try await registryHolds(remembered, repository: destination.repository, registryName: registryName, onEvent: onEvent)
        {
            try await putManifests(remembered.manifest, destination: destination, registryName: registryName, onEvent: onEvent)
            return PushedImage(
                registry: registryName, repository: destination.repository, tags: destination.tags,
                digest: remembered.manifest.digest)
        }
        let repository = destination.repository
        let registry = self.registry
        // The base's layers, where the destination repository has them (or they were mounted or copied there):
        // named as the base's manifest names them, neither compressed nor uploaded again.
        var known = estimate?.knownLayers ?? [:]
        var ancestor = estimate?.ancestor
        if estimate == nil, settings.reuseBaseLayers {
            ancestor = try await RegistryAncestor.find(for: inspected, docker: docker, preferredRegistry: registryName)
        }
        if estimate?.knownLayers == nil, let ancestor {
            known = await baseLayers(image: inspected, ancestor: ancestor, registryName: registryName, repository: repository, onEvent: onEvent)
        }
        if let ancestor, !known.isEmpty {
            onEvent(.info("\(known.count) layers of \(ancestor.reference) are in \(registryName)/\(repository)"))
        }
        let knownLayers = known
        onEvent(.info("Reading \(localImage) from the Docker Engine"))
        let image = try await EngineImageExport.exportAndUpload(localImage, docker: docker, settings: settings) { blob in
            let id = blob.shortID
            if let diffID = blob.diffID, knownLayers[diffID] != nil {
                onEvent(.push(PushEvent(id: id, status: .alreadyExists, progress: ProgressDetail(current: blob.size, total: blob.size))))
                return
            }
            let exists = try await Self.mapped(action: "BatchCheckLayerAvailability", repository: repository, registry: registryName) {
                try await registry.blobExists(repository: repository, digest: blob.digest)
            }
            if exists {
                onEvent(.push(PushEvent(id: id, status: .alreadyExists, progress: ProgressDetail(current: blob.size, total: blob.size))))
                return
            }
            let throttle = ProgressThrottle(total: blob.size)
            onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: 0, total: blob.size))))
            let content: BlobContent
            switch blob.source {
            case .file(let path): content = .file(path: path)
            case .bytes(let bytes): content = .bytes(bytes)
            }
            try await Self.mapped(action: "UploadLayerPart", repository: repository, registry: registryName) {
                try await registry.uploadBlob(repository: repository, digest: blob.digest, size: blob.size, content: content) { done in
                    guard throttle.shouldReport(done) else { return }
                    onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: done, total: blob.size))))
                }
            }
            onEvent(.push(PushEvent(id: id, status: .pushed, progress: ProgressDetail(current: blob.size, total: blob.size))))
        }
        defer { image.cleanup() }

        let manifest =
            knownLayers.isEmpty
            ? image.manifest()
            : ImageManifest.forImage(
                configDigest: image.configDigest, configSize: Int64(image.config.count),
                layers: image.layers.map { layer in
                    knownLayers[layer.diffID].map { ($0.digest, $0.size, $0.mediaType) } ?? (layer.digest, layer.size, layer.mediaType)
                })
        try await putManifests(manifest, destination: destination, registryName: registryName, onEvent: onEvent)
        RememberedImage.remember(
            image, known: knownLayers, in: settings.blobCache, scope: settings.cacheScope(registryName), repository: repository,
            onEvent: onEvent)
        return PushedImage(registry: registryName, repository: repository, tags: destination.tags, digest: manifest.digest)
    }

    /// True when the registry still has every blob the cache remembers for the image (then no export is needed):
    /// in this repository, or mounted from the one it was last pushed to. Otherwise the cache forgets the
    /// blobs that could be neither found nor mounted.
    private func registryHolds(
        _ remembered: RememberedImage, repository: String, registryName: String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> Bool {
        let registry = self.registry
        let jobs = max(settings.jobs, 8)
        let missing = try await RememberedImage.digests(remembered.blobs.map(\.digest), jobs: jobs) { digest in
            try await !Self.mapped(action: "BatchCheckLayerAvailability", repository: repository, registry: registryName) {
                try await registry.blobExists(repository: repository, digest: digest)
            }
        }
        // Blobs pushed to another repository of this registry are mounted from there. A refused or failed mount
        // is no error: the image is then read and the blob uploaded.
        let sources = remembered.repositories.filter { missing.contains($0.key) && $0.value != repository }
        let mounted = try await RememberedImage.digests(Array(sources.keys), jobs: jobs) { digest in
            guard let source = sources[digest] else { return false }
            return (try? await registry.mountBlob(repository: repository, digest: digest, from: source)) == true
        }
        for (digest, source) in sources.sorted(by: { $0.key < $1.key }) where mounted.contains(digest) {
            onEvent(.push(PushEvent(id: PreparedBlob.shortID(digest), status: .mounted(from: source))))
        }
        return remembered.confirm(
            missing: missing.subtracting(mounted), mounted: mounted, cache: settings.blobCache,
            scope: settings.cacheScope(registryName), place: "\(registryName)/\(repository)",
            onEvent: onEvent)
    }

    private func putManifests(
        _ manifest: ImageManifest, destination: PushDestination, registryName: String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws {
        for tag in destination.tags {
            onEvent(.tagging(tag))
            try await putManifest(manifest, tag: tag, repository: destination.repository, registryName: registryName)
            onEvent(.tagged(tag))
            onEvent(.info("\(tag): digest: \(manifest.digest) size: \(manifest.bytes.count)"))
        }
    }

    private func putManifest(_ manifest: ImageManifest, tag: String, repository: String, registryName: String) async throws {
        do {
            try await Self.mapped(action: "PutImage", repository: repository, registry: registryName) {
                try await registry.putManifest(
                    repository: repository, reference: tag, bytes: manifest.bytes,
                    mediaType: manifest.mediaType)
            }
        } catch RegistryError.tagInvalid(_, _, let message) {
            // ECR's answer for an immutable tag: fine if the tag already names exactly this manifest (a re-push).
            let existing = try await Self.mapped(action: "BatchGetImage", repository: repository, registry: registryName) {
                try await registry.manifestDigest(repository: repository, reference: tag, accept: [manifest.mediaType])
            }
            if existing == manifest.digest { return }
            throw ECRPushError.imageTagExists(
                repository: repository, tag: tag,
                detail: existing.map { "it points at \($0)" } ?? message)
        }
    }

    /// The ancestor's layers the destination repository holds, mounted or copied there where missing: from the
    /// destination registry itself, or from another one when `sources` says how to read it. Empty when base layers
    /// are not reused.
    func baseLayers(
        image: ImageInspect, ancestor: RegistryAncestor, registryName: String, repository: String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async -> [String: KnownLayer] {
        guard settings.reuseBaseLayers else { return [:] }
        let source: RegistryClient
        if ancestor.registry == registryName {
            source = registry
        } else if let sources {
            source = await sources.client(for: ancestor.registry, onEvent: onEvent)
        } else {
            return [:]
        }
        var destination = registry
        destination.onRetry = { onEvent(.info($0.description)) }
        return await BaseLayers.known(
            image: image, ancestor: ancestor, source: source, destination: destination, repository: repository,
            compression: settings.compression, jobs: settings.jobs, onEvent: onEvent)
    }

    /// `--transport auto`: whether this push costs less through the Engine's push or through this one, from the
    /// image's layers, its closest ancestor that came from a registry, and the blob cache. A base from another
    /// registry is copied to the destination repository first (the Engine would send it again otherwise; with it
    /// there, the Engine skips those layers as it does for a base from the destination registry).
    package func estimate(
        localImage: String, registryName: String, repository: String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void = { _ in }
    ) async throws -> TransportEstimate {
        guard let image = try await docker.inspectImage(localImage) else { throw DockerError.imageNotFound(localImage) }
        let ancestor =
            settings.reuseBaseLayers ? try await RegistryAncestor.find(for: image, docker: docker, preferredRegistry: registryName) : nil
        let remembered = RememberedImage(cache: settings.blobCache, image: image, registry: settings.cacheScope(registryName)) != nil
        var knownLayers: [String: KnownLayer]?
        if let ancestor, ancestor.registry != registryName, !remembered, settings.compression == .gzip, sources != nil {
            knownLayers = await baseLayers(image: image, ancestor: ancestor, registryName: registryName, repository: repository, onEvent: onEvent)
        }
        return TransportEstimate.choose(
            image: image, ancestor: ancestor, destinationRegistry: registryName, knownLayers: knownLayers, remembered: remembered,
            zstd: settings.compression == .zstd)
    }

    /// Registry errors that ECRPushKit has words for become ECRPushError; others pass through.
    @discardableResult
    static func mapped<T>(
        action: String, repository: String, registry: String,
        _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
        } catch RegistryError.nameUnknown {
            throw ECRPushError.repositoryMissing(repository: repository, registry: registry)
        } catch RegistryError.denied(_, _, let message) {
            throw ECRPushError.pushDenied(repository: repository, action: action, message: message)
        }
    }
}
