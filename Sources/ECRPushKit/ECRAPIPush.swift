import AWSCore
import DockerEngine
import ECR
import Foundation
import RegistryClient

/// The `ecr-api` transport: pushes an image from the Docker Engine straight to ECR through ECR's own API, signed
/// with SigV4 (`BlobPush` over an `ECRBlobStore`): no registry password exists. A base image's layers that the
/// repository already has (BatchCheckLayerAvailability on the base's own digests) are named, not uploaded again.
package struct ECRAPIPush: Sendable {
    package let ecr: ECRClient
    package let docker: DockerClient
    package var settings: ExportSettings
    /// How base images in other registries are read (nil: only bases in the destination registry are looked at).
    package var sources: SourceRegistries?
    /// The image's export, requested while the repository was looked up (`EngineExportAhead`), for `push` to read.
    package var exportAhead: EngineExportAhead?
    /// The local images the ancestor is chosen among, gathered while the repository was looked up (nil: gathered
    /// when needed).
    var candidates: RegistryAncestor.Candidates?
    /// A base's manifest in another registry, read while the repository was looked up.
    var sourceAhead: SourceBaseAhead?

    package init(ecr: ECRClient, docker: DockerClient, settings: ExportSettings = ExportSettings()) {
        self.ecr = ecr
        self.docker = docker
        self.settings = settings
    }

    /// `inspected`: the Engine's inspection of `localImage`, when the caller made it already.
    package func push(
        localImage: String, inspected: ImageInspect? = nil, destination: PushDestination, registry: String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage {
        do {
            let inspected = if let inspected { inspected } else { try await docker.requireImage(localImage) }
            let store = ECRBlobStore(ecr: ecr, repository: destination.repository, registryId: destination.registryId, registry: registry)
            var push = BlobPush(store: store, docker: docker, settings: settings, registryName: registry)
            push.exportAhead = exportAhead
            return try await push.push(localImage: localImage, image: inspected, tags: destination.tags, onEvent: onEvent) {
                KnownLayerLookup(
                    held: try await baseLayers(image: inspected, store: store, destination: destination, registry: registry, onEvent: onEvent))
            }
        } catch let error as AWSError where ["AccessDeniedException", "AccessDenied"].contains(error.code ?? "") {
            // IAM or a repository policy refused one of the push actions: name it.
            let details = error.serviceDetails
            throw ECRPushError.pushDenied(
                repository: destination.repository, action: details?.action ?? "push", message: details?.message ?? "\(error)")
        }
    }

    /// The image's base layers that the repository has, or gets: the base's manifest read through ECR's API when
    /// the base is in this registry (BatchGetImage; layers only named where the repository has them), else from its
    /// own registry as `sources` says (its layers copied part by part, `ECRBlobStore+Copy.swift`).
    private func baseLayers(
        image: ImageInspect, store: ECRBlobStore, destination: PushDestination, registry: String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> [String: KnownLayer] {
        guard settings.reuseBaseLayers else { return [:] }
        let found: RegistryAncestor? =
            if let candidates { RegistryAncestor.choose(for: image, among: candidates, preferredRegistry: registry) } else {
                try await RegistryAncestor.find(for: image, docker: docker, preferredRegistry: registry)
            }
        guard let ancestor = found else { return [:] }
        let source: BaseSource
        if ancestor.registry == registry {
            let (ecr, registryId) = (self.ecr, destination.registryId)
            source = BaseSource(otherRegistry: nil) { repository, reference in
                guard let stored = try await ecr.manifest(of: .digest(reference), repository: repository, registryId: registryId) else { return nil }
                return FetchedManifest(bytes: Array(stored.manifest.utf8), mediaType: stored.mediaType)
            }
        } else if let read = await sourceAhead?.read(for: ancestor) {
            source = read.source
        } else if let sources {
            source = .registry(await sources.client(for: ancestor.registry, onEvent: onEvent), isDestination: false)
        } else {
            return [:]
        }
        let known = await BaseLayers.known(
            image: image, ancestor: ancestor, source: source, store: store, compression: settings.compression, jobs: settings.jobs,
            onEvent: onEvent)
        if !known.isEmpty { onEvent(.info("\(known.count) layers of \(ancestor.reference) are in \(store.place)")) }
        return known
    }
}
