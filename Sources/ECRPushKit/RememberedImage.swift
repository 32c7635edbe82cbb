import DockerEngine
import ImageExport

/// An image whose blobs a registry got from an earlier push, according to the `BlobDigestCache`: the manifest
/// that push put, rebuilt from the remembered digests and sizes (byte for byte the same), and the distinct
/// blobs to check before trusting it.
struct RememberedImage: Sendable {
    let manifest: ImageManifest
    /// Each distinct layer blob once, then the config blob.
    let blobs: [BlobDigestCache.Blob]
    /// Where each blob was last pushed (a repository it can be mounted from).
    let repositories: [String: String]

    /// Nil when the cache is off or does not know every layer of the image as the Engine describes it.
    init?(cache: BlobDigestCache?, image: ImageInspect, registry: String) {
        guard let cache, !image.rootFS.layers.isEmpty,
            let known = cache.lookup(imageID: image.id, diffIDs: image.rootFS.layers, registry: registry)
        else { return nil }
        manifest = ImageManifest.forImage(
            configDigest: known.config.digest, configSize: known.config.size,
            layers: known.layers.map { ($0.digest, $0.size, $0.mediaType ?? ExportedLayer.gzipMediaType) })
        var seen = Set<String>()
        blobs = (known.layers + [known.config]).filter { seen.insert($0.digest).inserted }
        repositories = known.repositories
    }

    /// True when the registry still has every blob (each is then reported as existing); otherwise the cache
    /// forgets the missing ones and the user hears why the image is read again.
    func confirm(
        missing: Set<String>, mounted: Set<String> = [], cache: BlobDigestCache?, scope: String, place: String,
        onEvent: @Sendable (WorkflowEvent) -> Void
    ) -> Bool {
        guard missing.isEmpty else {
            try? cache?.forget(blobs: missing, registry: scope)
            onEvent(.info("\(missing.count) blob(s) pushed before are no longer in \(place): reading the image again"))
            return false
        }
        for blob in blobs where !mounted.contains(blob.digest) {
            onEvent(
                .push(
                    PushEvent(
                        id: PreparedBlob.shortID(blob.digest), status: .alreadyExists,
                        progress: ProgressDetail(current: blob.size, total: blob.size))))
        }
        return true
    }

    /// After a push that read the image: remembers the blobs its manifest named (`known` layers under the base's
    /// blobs, the others under ecrpush's own). A cache that cannot be written is a warning, not a failure (the push
    /// succeeded; the next one just reads the image again).
    static func remember(
        _ image: ExportedImage, known: [String: KnownLayer] = [:], in cache: BlobDigestCache?, scope: String, repository: String,
        onEvent: @Sendable (WorkflowEvent) -> Void
    ) {
        do {
            try cache?.record(
                imageID: image.imageID, config: BlobDigestCache.Blob(digest: image.configDigest, size: Int64(image.config.count)),
                layers: image.layers.map { layer in
                    let blob = known[layer.diffID].map { BlobDigestCache.Blob(digest: $0.digest, size: $0.size, mediaType: $0.mediaType) }
                    return (layer.diffID, blob ?? BlobDigestCache.Blob(digest: layer.digest, size: layer.size, mediaType: layer.mediaType))
                },
                registry: scope, repository: repository)
        } catch {
            onEvent(.info("warning: \(error)"))
        }
    }

    /// The digests for which `test` says yes, asking at most `jobs` at a time.
    static func digests(
        _ digests: [String], jobs: Int,
        where test: @escaping @Sendable (String) async throws -> Bool
    ) async throws -> Set<String> {
        try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            var pending = digests.makeIterator()
            var chosen = Set<String>()
            for _ in 0..<max(1, jobs) {
                guard let digest = pending.next() else { break }
                group.addTask { (digest, try await test(digest)) }
            }
            while let (digest, yes) = try await group.next() {
                if yes { chosen.insert(digest) }
                if let next = pending.next() { group.addTask { (next, try await test(next)) } }
            }
            return chosen
        }
    }
}
