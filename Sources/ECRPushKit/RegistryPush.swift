import DockerEngine
import Foundation
import ImageExport
import RegistryClient

/// Pushes an image from the Docker Engine to the registry endpoint over the OCI distribution API, with the
/// ECR token's basic-auth login: the image is read from the Engine once, each layer compressed once, and up
/// to `jobs` blobs go up at the same time, each as one streaming request from its file.
public struct RegistryPush: Sendable {
    public let registry: RegistryClient
    public let docker: DockerClient
    public var compressionLevel: Int
    public var temporaryDirectoryParent: URL?
    /// Blobs uploaded at the same time.
    public var jobs: Int

    public init(registry: RegistryClient, docker: DockerClient, compressionLevel: Int = 6, jobs: Int = 4,
                temporaryDirectoryParent: URL? = nil) {
        self.registry = registry
        self.docker = docker
        self.compressionLevel = compressionLevel
        self.jobs = jobs
        self.temporaryDirectoryParent = temporaryDirectoryParent
    }

    /// The registry behind an ECR login: its proxyEndpoint (or `endpoint`, e.g. `--registry`), with the login's
    /// `AWS:<password>` as basic auth (kept in memory, sent only in the Authorization header).
    public init(login: RegistryLogin, endpoint: String? = nil, docker: DockerClient, compressionLevel: Int = 6, jobs: Int = 4,
                temporaryDirectoryParent: URL? = nil) {
        let client = RegistryClient(baseURL: endpoint ?? login.proxyEndpoint,
                                    credentials: RegistryCredentials(username: login.username, password: login.password))
        self.init(registry: client, docker: docker, compressionLevel: compressionLevel, jobs: jobs,
                  temporaryDirectoryParent: temporaryDirectoryParent)
    }

    /// `registryName` names the result (`<registryName>/<repository>@<digest>`).
    public func push(localImage: String, destination: PushDestination, registryName: String,
                     onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async throws -> PushedImage {
        onEvent(.info("Reading \(localImage) from the Docker Engine"))
        let image = try await EngineImageExport.export(localImage, docker: docker, compressionLevel: compressionLevel,
                                                       temporaryDirectoryParent: temporaryDirectoryParent)
        defer { image.cleanup() }
        let repository = destination.repository
        let registry = self.registry

        try await BlobUploadQueue.run(PreparedBlob.blobs(of: image), jobs: jobs) { blob in
            let id = blob.shortID
            let exists = try await Self.mapped(action: "BatchCheckLayerAvailability", repository: repository, registry: registryName) {
                try await registry.blobExists(repository: repository, digest: blob.digest)
            }
            if exists {
                onEvent(.push(PushEvent(id: id, status: "Layer already exists", progress: ProgressDetail(current: blob.size, total: blob.size))))
                return
            }
            let throttle = ProgressThrottle(total: blob.size)
            onEvent(.push(PushEvent(id: id, status: "Pushing", progress: ProgressDetail(current: 0, total: blob.size))))
            let content: BlobContent
            switch blob.source {
            case .file(let path): content = .file(path: path)
            case .bytes(let bytes): content = .bytes(bytes)
            }
            try await Self.mapped(action: "UploadLayerPart", repository: repository, registry: registryName) {
                try await registry.uploadBlob(repository: repository, digest: blob.digest, size: blob.size, content: content) { done in
                    guard throttle.shouldReport(done) else { return }
                    onEvent(.push(PushEvent(id: id, status: "Pushing", progress: ProgressDetail(current: done, total: blob.size))))
                }
            }
            onEvent(.push(PushEvent(id: id, status: "Pushed", progress: ProgressDetail(current: blob.size, total: blob.size))))
        }

        let manifest = image.dockerManifest()
        for tag in destination.tags {
            try await putManifest(manifest, tag: tag, repository: repository, registryName: registryName)
            onEvent(.info("\(tag): digest: \(manifest.digest) size: \(manifest.bytes.count)"))
        }
        return PushedImage(registry: registryName, repository: repository, tags: destination.tags, digest: manifest.digest)
    }

    private func putManifest(_ manifest: ImageManifest, tag: String, repository: String, registryName: String) async throws {
        do {
            try await Self.mapped(action: "PutImage", repository: repository, registry: registryName) {
                try await registry.putManifest(repository: repository, reference: tag, bytes: manifest.bytes,
                                               mediaType: manifest.mediaType)
            }
        } catch RegistryError.tagInvalid(_, _, let message) {
            // ECR's answer for an immutable tag: fine if the tag already names exactly this manifest (a re-push).
            let existing = try await Self.mapped(action: "BatchGetImage", repository: repository, registry: registryName) {
                try await registry.manifestDigest(repository: repository, reference: tag, accept: [manifest.mediaType])
            }
            if existing == manifest.digest { return }
            throw ECRPushError.imageTagExists(repository: repository, tag: tag,
                                              detail: existing.map { "it points at \($0)" } ?? message)
        }
    }

    /// Registry errors that ECRPushKit has words for become ECRPushError; others pass through.
    @discardableResult
    static func mapped<T>(action: String, repository: String, registry: String,
                          _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch RegistryError.nameUnknown {
            throw ECRPushError.repositoryMissing(repository: repository, registry: registry)
        } catch RegistryError.denied(_, _, let message) {
            throw ECRPushError.pushDenied(repository: repository, action: action, message: message)
        }
    }
}
