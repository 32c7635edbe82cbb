import DockerEngine
import Foundation
import Hashing
import ImageExport
import RegistryClient
import Synchronization

/// The layers an image shares with the one the destination tag names now: usually the job's previous push. Its
/// manifest and config (diffID by diffID) name the blobs the repository holds for them, so those layers are
/// neither compressed nor sent again. The ancestor and the blob cache cover most of this; this covers the rest: a
/// fresh runner that rebuilt an unchanged big layer (BuildKit `--cache-from`, no local ancestor, an empty cache),
/// which would otherwise be uploaded while it is compressed, before its digest could show the registry has it.
/// Anything unreadable, inconsistent or missing only means "unknown".
enum CurrentImageLayers {
    /// A config larger than this is not an image config.
    static let maxConfigSize = 4 << 20

    static func known(image: ImageInspect, tag: String, store: RegistryBlobStore, compression: LayerCompression) async -> [String: KnownLayer] {
        let client = store.client
        do {
            guard
                let document = try await BaseLayers.platformManifest(
                    image: image, repository: store.repository, reference: tag, digest: nil,
                    readManifest: { repository, reference in try await client.manifest(repository: repository, reference: reference) }),
                let config = document.config, let layers = document.layers, config.size <= maxConfigSize
            else { return [:] }
            let diffIDs = try await Self.diffIDs(config: config.digest, store: store)
            guard diffIDs.count == layers.count else { return [:] }
            let wanted = Set(image.rootFS.layers)
            var candidates: [String: KnownLayer] = [:]
            for (diffID, layer) in zip(diffIDs, layers) where wanted.contains(diffID) && candidates[diffID] == nil {
                let known = KnownLayer(digest: layer.digest, size: layer.size, mediaType: layer.mediaType)
                if let usable = BaseLayers.usable(known, compression: compression) { candidates[diffID] = usable }
            }
            guard !candidates.isEmpty else { return [:] }
            // The tag's manifest names them, but a manifest is never pushed naming a blob not checked here.
            let present = try await store.existing(Array(Set(candidates.values.map(\.digest))).sorted())
            return candidates.filter { present.contains($0.value.digest) }
        } catch {
            return [:]
        }
    }

    /// The config's `rootfs.diff_ids`, read from the repository and checked against its digest.
    private static func diffIDs(config digest: String, store: RegistryBlobStore) async throws -> [String] {
        let bytes = Mutex<[UInt8]>([])
        try await store.client.readBlob(repository: store.repository, digest: digest) { chunk in
            try bytes.withLock { bytes in
                // Not an image config: the read stops, and the tag counts as unknown.
                guard bytes.count + chunk.count <= maxConfigSize else { throw CancellationError() }
                bytes += chunk
            }
        }
        let config = bytes.withLock { $0 }
        guard config.withUnsafeBytes({ SHA256.hash($0) }).ociDigest == digest else { return [] }
        return try JSONDecoder().decode(ImageConfigRootFS.self, from: Data(config)).rootfs.diffIDs
    }
}
