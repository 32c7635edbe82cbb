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
}

/// Where the image's first layers came from: the manifest of its closest ancestor that came from a registry (its
/// `RepoDigests` entry), read from that registry. Each of those layers is checked in the destination repository
/// (HEAD) and, when missing, mounted from the ancestor's repository (same registry) or copied from the ancestor's
/// registry as it is stored there (another registry: same digest, nothing recompressed). Only layers the
/// destination then holds count as known, so a manifest never names a blob the destination lacks. Anything
/// unreadable, inconsistent or refused only means "unknown": those layers are compressed and uploaded as usual.
package enum BaseLayers {
    /// `source` reads the ancestor's registry (the destination's own client when it is the same registry).
    package static func known(
        image: ImageInspect, ancestor: RegistryAncestor, source: RegistryClient, destination: RegistryClient, repository: String,
        compression: LayerCompression, jobs: Int = 4, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async -> [String: KnownLayer] {
        do {
            let layers = try await sourceLayers(image: image, ancestor: ancestor, registry: source)
            guard layers.count == ancestor.layerCount, layers.count <= image.rootFS.layers.count else { return [:] }
            guard let sourceRepository = sourceRepository(of: ancestor) else { return [:] }
            let sameRegistry = RegistryClient.origin(of: source.baseURL) == RegistryClient.origin(of: destination.baseURL)
            var candidates: [String: KnownLayer] = [:]
            for (diffID, layer) in zip(image.rootFS.layers, layers) where candidates[diffID] == nil {
                if let layer = usable(layer, compression: compression) { candidates[diffID] = layer }
            }
            let byDigest = Dictionary(candidates.values.map { ($0.digest, $0) }, uniquingKeysWith: { first, _ in first })
            let held = try await RememberedImage.digests(Array(byDigest.keys).sorted(), jobs: max(jobs, 4)) { digest in
                guard let layer = byDigest[digest] else { return false }
                return try await ensure(
                    layer, in: destination, repository: repository, source: source, sourceRepository: sourceRepository,
                    sameRegistry: sameRegistry, onEvent: onEvent)
            }
            return candidates.filter { held.contains($0.value.digest) }
        } catch is CancellationError {
            return [:]
        } catch {
            onEvent(.info("The layers of \(ancestor.reference) could not be found in its registry (\(error)); they are uploaded"))
            return [:]
        }
    }

    /// True when the destination repository holds the layer, after a mount or copy where needed. A refused mount
    /// or a failed copy is no error: the layer is then compressed and uploaded from the image.
    private static func ensure(
        _ layer: KnownLayer, in destination: RegistryClient, repository: String, source: RegistryClient, sourceRepository: String,
        sameRegistry: Bool, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> Bool {
        if try await destination.blobExists(repository: repository, digest: layer.digest) { return true }
        let id = PreparedBlob.shortID(layer.digest)
        if sameRegistry {
            guard sourceRepository != repository,
                (try? await destination.mountBlob(repository: repository, digest: layer.digest, from: sourceRepository)) == true
            else { return false }
            onEvent(.push(PushEvent(id: id, status: .mounted(from: sourceRepository))))
            return true
        }
        let place = "\(source.registryName)/\(sourceRepository)"
        let throttle = ProgressThrottle(total: layer.size)
        do {
            try await destination.copyBlob(digest: layer.digest, size: layer.size, from: source, sourceRepository: sourceRepository, to: repository) {
                done in
                guard throttle.shouldReport(done) else { return }
                onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: done, total: layer.size))))
            }
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
    static func sourceLayers(image: ImageInspect, ancestor: RegistryAncestor, registry: RegistryClient) async throws -> [KnownLayer] {
        guard let repository = sourceRepository(of: ancestor), let digest = ancestor.reference.split(separator: "@").last.map(String.init),
            var manifest = try await verified(registry.manifest(repository: repository, reference: digest), digest: digest)
        else { return [] }
        var document = try JSONDecoder().decode(ManifestDocument.self, from: Data(manifest.bytes))
        if let platforms = document.manifests {
            guard
                let entry = platforms.first(where: {
                    $0.platform?.os == (image.os ?? "linux") && $0.platform?.architecture == (image.architecture ?? "amd64")
                }),
                let platformManifest = try await verified(registry.manifest(repository: repository, reference: entry.digest), digest: entry.digest)
            else { return [] }
            manifest = platformManifest
            document = try JSONDecoder().decode(ManifestDocument.self, from: Data(manifest.bytes))
        }
        return (document.layers ?? []).map { KnownLayer(digest: $0.digest, size: $0.size, mediaType: $0.mediaType) }
    }

    private static func verified(_ manifest: FetchedManifest?, digest: String) -> FetchedManifest? {
        guard let manifest else { return nil }
        let actual = manifest.bytes.withUnsafeBytes { SHA256.hash($0) }.ociDigest
        return actual == digest ? manifest : nil
    }

    /// The repository of `host/repository@digest`.
    static func sourceRepository(of ancestor: RegistryAncestor) -> String? {
        let name = ancestor.reference.split(separator: "@").first.map(String.init) ?? ""
        let prefix = ancestor.registry + "/"
        return name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : nil
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

    private struct ManifestDocument: Decodable {
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
        var layers: [Descriptor]?
        var manifests: [Descriptor]?
    }
}
