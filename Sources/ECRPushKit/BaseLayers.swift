import DockerEngine
import Foundation
import Hashing
import ImageExport
import RegistryClient

/// A layer of the image that the destination repository already holds, as the base image's manifest names it:
/// pushed under that descriptor, it is neither compressed nor uploaded again, and the registry stores the base
/// once however many repositories use it.
package struct KnownLayer: Sendable, Equatable {
    package var digest: String
    package var size: Int64
    package var mediaType: String

    package init(digest: String, size: Int64, mediaType: String) {
        self.digest = digest
        self.size = size
        self.mediaType = mediaType
    }
}

extension KnownLayer {
    /// As the export reader takes it, to recognise the layer in the stream and name it without compressing it.
    var exportBlob: KnownBlob {
        KnownBlob(digest: digest, size: size, compression: mediaType == ExportedLayer.zstdMediaType ? .zstd : .gzip)
    }
}

extension ExportedImage {
    /// The manifest to push: each layer in `known` (by diffID) under the base's blob, the others as exported.
    func manifest(naming known: [String: KnownLayer]) -> ImageManifest {
        guard !known.isEmpty else { return manifest() }
        return ImageManifest.forImage(
            configDigest: configDigest, configSize: Int64(config.count),
            layers: layers.map { layer in
                known[layer.diffID].map { ($0.digest, $0.size, $0.mediaType) } ?? (layer.digest, layer.size, layer.mediaType)
            })
    }
}

/// Where a base image is read from: its manifest (by repository and reference), and, when it lives in another
/// registry than the destination, that registry's client to copy its blobs from.
package struct BaseSource: Sendable {
    package var readManifest: @Sendable (_ repository: String, _ reference: String) async throws -> FetchedManifest?
    /// nil: the base is in the destination's own registry (its blobs are mounted, not copied).
    package var otherRegistry: RegistryClient?
    /// The destination registry's repository its blobs are mounted from, when not the base's own (nil).
    package var mountRepository: String?

    package init(
        otherRegistry: RegistryClient?, mountRepository: String? = nil,
        readManifest: @escaping @Sendable (_ repository: String, _ reference: String) async throws -> FetchedManifest?
    ) {
        self.otherRegistry = otherRegistry
        self.mountRepository = mountRepository
        self.readManifest = readManifest
    }

    /// A base read over the distribution API (from the destination registry or another one).
    package static func registry(_ client: RegistryClient, isDestination: Bool) -> BaseSource {
        BaseSource(otherRegistry: isDestination ? nil : client) { repository, reference in
            try await client.manifest(repository: repository, reference: reference)
        }
    }

    /// A base from another registry (`client`) that an earlier destination's `repository` in this registry got
    /// copied already: its blobs are mounted from there, not copied again.
    package static func copied(into repository: String, from client: RegistryClient) -> BaseSource {
        BaseSource(otherRegistry: nil, mountRepository: repository) { repository, reference in
            try await client.manifest(repository: repository, reference: reference)
        }
    }
}

/// Where the image's first layers came from: the manifest of its closest ancestor that came from a registry (its
/// `RepoDigests` entry), read from that registry. Each of those layers is checked in the destination repository
/// and, when missing, mounted from the ancestor's repository (same registry) or copied from the ancestor's
/// registry as it is stored there (another registry: same digest, nothing recompressed), where the store can.
/// Only layers the destination then holds count as known, so a manifest never names a blob the destination
/// lacks. Anything unreadable, inconsistent or refused only means "unknown": those layers are compressed and
/// uploaded as usual.
package enum BaseLayers {
    static func known(
        image: ImageInspect, ancestor: RegistryAncestor, source: BaseSource, store: any BlobStore, compression: LayerCompression,
        jobs: Int = 4, meter: CopyMeter? = nil, namedByDiffID: Bool = false, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async -> [String: KnownLayer] {
        defer { meter?.finish() }
        do {
            let layers = try await sourceLayers(image: image, ancestor: ancestor, readManifest: source.readManifest)
            guard layers.count == ancestor.layerCount, layers.count <= image.rootFS.layers.count else { return [:] }
            let sourceRepository = source.mountRepository ?? ancestor.location.repository
            var candidates: [String: KnownLayer] = [:]
            // Each layer's progress is named by its blob, as ecrpush's push names the others; by its diffID where the
            // Engine's push reports the image's layers beside it (through the relay), as the Engine names them.
            var ids: [String: String] = [:]
            for (diffID, layer) in zip(image.rootFS.layers, layers) where candidates[diffID] == nil {
                guard let layer = usable(layer, compression: compression) else { continue }
                candidates[diffID] = layer
                if ids[layer.digest] == nil { ids[layer.digest] = PreparedBlob.shortID(namedByDiffID ? diffID : layer.digest) }
            }
            let byDigest = Dictionary(candidates.values.map { ($0.digest, $0) }, uniquingKeysWith: { first, _ in first })
            let namedIDs = ids
            let present = try await store.existing(Array(byDigest.keys).sorted())
            let missing = byDigest.keys.filter { !present.contains($0) }.sorted()
            meter?.expect(source.otherRegistry == nil ? 0 : missing.compactMap { byDigest[$0]?.size }.reduce(0, +), plan: candidates)
            let added = try await RememberedImage.digests(missing, jobs: max(jobs, 4)) { digest in
                guard let layer = byDigest[digest] else { return false }
                return try await add(
                    layer, id: namedIDs[digest] ?? PreparedBlob.shortID(digest), to: store, from: source, sourceRepository: sourceRepository,
                    meter: meter,
                    onEvent: onEvent)
            }
            let held = present.union(added)
            return candidates.filter { held.contains($0.value.digest) }
        } catch is CancellationError {
            return [:]
        } catch {
            onEvent(.info("The layers of \(ancestor.reference) could not be found in its registry (\(error)); they are uploaded"))
            return [:]
        }
    }

    /// Mounts (same registry; where the store cannot, copies) or copies (another registry) a layer the store lacks.
    /// A refused mount or a failed copy is no error: the layer is then compressed and uploaded from the image.
    private static func add(
        _ layer: KnownLayer, id: String, to store: any BlobStore, from source: BaseSource, sourceRepository: String, meter: CopyMeter?,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> Bool {
        let place: String
        let copy: @Sendable (_ progress: @escaping @Sendable (Int64) -> Void) async throws -> Bool
        if let registry = source.otherRegistry {
            place = "\(registry.registryName)/\(sourceRepository)"
            copy = { progress in try await store.copy(layer, from: registry, repository: sourceRepository, progress: progress) }
        } else {
            switch try await store.mountKeepingSession(layer.digest, from: sourceRepository) {
            case .mounted:
                onEvent(.push(PushEvent(id: id, status: .mounted(from: sourceRepository))))
                return true
            case .refused(let session):
                place = sourceRepository
                copy = { progress in try await store.copyWithinRegistry(layer, from: sourceRepository, session: session, progress: progress) }
            }
        }
        let throttle = ProgressThrottle(total: layer.size)
        do {
            let copied = try await copy { done in
                meter?.progress(layer.digest, done)
                guard throttle.shouldReport(done) else { return }
                onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: done, total: layer.size))))
            }
            guard copied else { return false }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            onEvent(.info("\(id): could not be copied from \(place) (\(error)); it is compressed from the image instead"))
            return false
        }
        onEvent(.push(PushEvent(id: id, status: .copied(from: place), progress: ProgressDetail(current: layer.size, total: layer.size))))
        return true
    }

    /// The single-platform manifest the ancestor's digest names (for an index, the image's platform), checked
    /// against that digest: a registry that answers with other bytes is not believed.
    static func sourceLayers(
        image: ImageInspect, ancestor: RegistryAncestor,
        readManifest: @Sendable (_ repository: String, _ reference: String) async throws -> FetchedManifest?
    ) async throws -> [KnownLayer] {
        let document = try await platformManifest(
            image: image, repository: ancestor.location.repository, reference: ancestor.digest, digest: ancestor.digest,
            readManifest: readManifest)
        return (document?.layers ?? []).map { KnownLayer(digest: $0.digest, size: $0.size, mediaType: $0.mediaType) }
    }

    /// The single-platform manifest `reference` names (for an index, the one for the image's platform). With a
    /// `digest`, the bytes must hash to it (and an index's entry always to its own): nil otherwise, or when missing.
    static func platformManifest(
        image: ImageInspect, repository: String, reference: String, digest: String?,
        readManifest: @Sendable (_ repository: String, _ reference: String) async throws -> FetchedManifest?
    ) async throws -> ManifestDocument? {
        guard let fetched = try await readManifest(repository, reference) else { return nil }
        guard let manifest = digest.map({ verified(fetched, digest: $0) }) ?? fetched else { return nil }
        let document = try JSONDecoder().decode(ManifestDocument.self, from: Data(manifest.bytes))
        guard let platforms = document.manifests else { return document }
        guard
            let entry = platforms.first(where: {
                $0.platform?.os == (image.os ?? "linux") && $0.platform?.architecture == (image.architecture ?? "amd64")
            }),
            let platformManifest = try await verified(readManifest(repository, entry.digest), digest: entry.digest)
        else { return nil }
        return try JSONDecoder().decode(ManifestDocument.self, from: Data(platformManifest.bytes))
    }

    private static func verified(_ manifest: FetchedManifest?, digest: String) -> FetchedManifest? {
        guard let manifest else { return nil }
        let actual = manifest.bytes.withUnsafeBytes { SHA256.hash($0) }.ociDigest
        return actual == digest ? manifest : nil
    }

    /// The layer as this push's manifest can name it: gzip layers (Docker's or OCI's type) in a gzip push, under
    /// Docker's type so the manifest stays Docker v2; zstd layers in a zstd push. Anything else is recompressed.
    static func usable(_ layer: KnownLayer, compression: LayerCompression) -> KnownLayer? {
        let gzipTypes = [ExportedLayer.gzipMediaType, "application/vnd.oci.image.layer.v1.tar+gzip"]
        switch compression {
        case .gzip where gzipTypes.contains(layer.mediaType):
            return KnownLayer(digest: layer.digest, size: layer.size, mediaType: ExportedLayer.gzipMediaType)
        case .zstd where layer.mediaType == ExportedLayer.zstdMediaType:
            return layer
        default:
            return nil
        }
    }

    /// The parts of a manifest or index these look-ups read.
    struct ManifestDocument: Decodable {
        struct Descriptor: Decodable {
            struct Platform: Decodable {
                var os: String?
                var architecture: String?
            }
            var mediaType: String
            var digest: String
            var size: Int64
            var platform: Platform?
        }
        var config: Descriptor?
        var layers: [Descriptor]?
        var manifests: [Descriptor]?
    }
}
