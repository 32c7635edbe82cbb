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
            var known: [String: KnownLayer]?
            if relayMaySuit(inspected) {
                let base = try await baseLayers(
                    image: inspected, store: store, destination: destination, registry: registry, relayMaySuit: true, onEvent: onEvent)
                known = base.layers
                if let pushed = try await pushThroughRelay(
                    image: inspected, ancestor: base.ancestor, known: base.layers, store: store, destination: destination, registry: registry,
                    onEvent: onEvent)
                {
                    return pushed
                }
            }
            var push = BlobPush(store: store, docker: docker, settings: settings, registryName: registry)
            push.exportAhead = exportAhead
            let looked = known
            return try await push.push(localImage: localImage, image: inspected, tags: destination.tags, onEvent: onEvent) {
                if let looked { return KnownLayerLookup(held: looked) }
                return KnownLayerLookup(
                    held: try await baseLayers(image: inspected, store: store, destination: destination, registry: registry, onEvent: onEvent).layers)
            }
        } catch let error as AWSError where ["AccessDeniedException", "AccessDenied"].contains(error.code ?? "") {
            // IAM or a repository policy refused one of the push actions: name it.
            let details = error.serviceDetails
            throw ECRPushError.pushDenied(
                repository: destination.repository, action: details?.action ?? "push", message: details?.message ?? "\(error)")
        }
    }

    /// Whether the Engine's push through the relay may be this push's: an Engine on a local socket, an image with a
    /// name of its own, gzip layers, no export asked ahead, and the blob cache unable to answer (a re-push it
    /// remembers reads nothing).
    private func relayMaySuit(_ image: ImageInspect) -> Bool {
        settings.engineRelay && exportAhead == nil && settings.compression == .gzip && EngineRelayPush.applies(to: image, docker: docker)
            && settings.blobCache?.mayRemember(imageID: image.id) != true
    }

    /// The Engine's push through the relay into `store` (ECR's API: no registry password anywhere), where the base's
    /// layers are all in the repository and few bytes are new: the Engine then compresses only those, where this
    /// transport's own push would read the whole image. nil otherwise, or when the Engine could not reach the relay.
    private func pushThroughRelay(
        image: ImageInspect, ancestor: RegistryAncestor?, known: [String: KnownLayer], store: ECRBlobStore, destination: PushDestination,
        registry: String, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage? {
        let baseHeld = ancestor.map { known.count >= $0.layerCountDistinct(in: image) } ?? true
        guard baseHeld, EngineRelayPush.suits(image, ancestor: ancestor) else { return nil }
        let newBytes = TransportEstimate.mebibytes(max(0, image.size - (ancestor?.size ?? 0)))
        onEvent(.info("\(newBytes) to send past the base the repository holds: the Engine compresses it, through ecrpush's relay"))
        let base = Task<[String: KnownLayer], Never> { known }
        let upstream = StoreRelayUpstream(store: store, tags: destination.tags, base: base, configDigest: image.id, onEvent: onEvent)
        guard
            let digest = try await EngineRelayPush(docker: docker, settings: settings).push(
                source: image.id, repository: destination.repository, tags: destination.tags, upstream: upstream, onEvent: onEvent)
        else { return nil }
        return PushedImage(registry: registry, repository: destination.repository, tags: destination.tags, digest: digest)
    }

    /// The image's base layers that the repository has, or gets: the base's manifest read through ECR's API when
    /// the base is in this registry (BatchGetImage; layers only named where the repository has them), else from its
    /// own registry as `sources` says (its layers copied part by part, `ECRBlobStore+Copy.swift`). With the ancestor
    /// they came from (nil: none).
    /// `relayMaySuit`: the Engine's push through the relay may follow, which names the layers by diffID; so do the
    /// base's mounts and copies where it likely does (`EngineRelayPush.suits`).
    private func baseLayers(
        image: ImageInspect, store: ECRBlobStore, destination: PushDestination, registry: String, relayMaySuit: Bool = false,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> (layers: [String: KnownLayer], ancestor: RegistryAncestor?) {
        guard settings.reuseBaseLayers else { return ([:], nil) }
        let found: RegistryAncestor? =
            if let candidates { RegistryAncestor.choose(for: image, among: candidates, preferredRegistry: registry) } else {
                try await RegistryAncestor.find(for: image, docker: docker, preferredRegistry: registry)
            }
        guard let ancestor = found else { return ([:], nil) }
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
            return ([:], ancestor)
        }
        let known = await BaseLayers.known(
            image: image, ancestor: ancestor, source: source, store: store, compression: settings.compression, jobs: settings.jobs,
            namedByDiffID: relayMaySuit && EngineRelayPush.suits(image, ancestor: ancestor), onEvent: onEvent)
        if !known.isEmpty { onEvent(.info("\(known.count) layers of \(ancestor.reference) are in \(store.place)")) }
        return (known, ancestor)
    }
}
