import DockerEngine
import Foundation
import ImageExport

/// What the look-up before an export found: the layers the destination holds (by diffID), and those whose copy
/// into it is still running (a base from another registry, copied beside the push), which the export skips on the
/// copy's word until `confirmCopies` says which arrived.
struct KnownLayerLookup: Sendable {
    var held: [String: KnownLayer] = [:]
    var copying: [String: KnownLayer] = [:]
    var confirmCopies: (@Sendable () async throws -> [String: KnownLayer])?

    /// Every layer the export may skip: those held and those being copied.
    var skippable: [String: KnownLayer] { held.merging(copying) { held, _ in held } }
}

/// The one push workflow of ecrpush's own transports (`registry` and `ecr-api`), over a `BlobStore`: an image the
/// blob cache remembers is checked and tagged without reading it; otherwise the image is read from the Engine
/// once, each layer compressed once (except the base's layers the store holds, which keep the base's blobs), each
/// blob uploaded once unless the store has it, then the manifest put under every tag and the blobs remembered.
struct BlobPush: Sendable {
    let store: any BlobStore
    let docker: DockerClient
    let settings: ExportSettings
    /// The registry's name in the blob cache and the result (`host[:port]`).
    let registryName: String
    /// The image's export, requested while the login was made (`EngineExportAhead`): read by the first export.
    var exportAhead: EngineExportAhead?

    /// `baseLayers` is asked only when the image must be read (not for a remembered image), while the Engine's
    /// export is already requested: the Engine writes the whole image out before its first byte, and the base's
    /// layers are checked, mounted or copied meanwhile (the first layer entry waits for them).
    func push(
        localImage: String, image inspected: ImageInspect, tags: [String], onEvent: @escaping @Sendable (WorkflowEvent) -> Void,
        baseLayers: @escaping @Sendable () async throws -> KnownLayerLookup
    ) async throws -> PushedImage {
        let scope = settings.cacheScope(registryName)
        if let remembered = RememberedImage(cache: settings.blobCache, image: inspected, registry: scope),
            try await remembered.isHeld(
                by: store, cache: settings.blobCache, scope: scope, jobs: settings.jobs, onEvent: onEvent)
        {
            try await putManifests(remembered.manifest, tags: tags, onEvent: onEvent)
            return PushedImage(registry: registryName, repository: store.repository, tags: tags, digest: remembered.manifest.digest)
        }
        let knownSet = KnownLayerSet.pending()
        async let lookedUp = knownSet.settle(
            reason: "the layers the destination holds could not be looked up", blobs: { $0.skippable.mapValues(\.exportBlob) }
        ) {
            var lookup = try await baseLayers()
            let cached = try await cachedLayers(inspected.rootFS.layers, excluding: Set(lookup.skippable.keys), onEvent: onEvent)
            lookup.held.merge(cached) { base, _ in base }
            return lookup
        }
        let ahead = exportAhead.flatMap { $0.image == localImage ? $0 : nil }
        onEvent(.info("Reading \(localImage) from the Docker Engine" + (ahead == nil ? "" : " (asked for while logging in)")))
        let exported: ExportedImage
        do {
            exported = try await export(localImage, ahead: ahead, known: knownSet, diffIDs: inspected.rootFS.layers, onEvent: onEvent)
        } catch {
            // A failed look-up stops the export: its own error says what happened.
            if knownSet.hasFailed { _ = try await lookedUp }
            throw error
        }
        let (image, known): (ExportedImage, [String: KnownLayer])
        do {
            (image, known) = try await confirmed(
                exported, lookup: try await lookedUp, localImage: localImage, diffIDs: inspected.rootFS.layers, onEvent: onEvent)
        } catch {
            exported.cleanup()
            throw error
        }
        defer { image.cleanup() }
        let skipped = Set(image.layers.filter { $0.path.isEmpty }.map(\.diffID)).count
        if skipped > 0 { onEvent(.info("\(skipped) layers the registry holds were recognised in the export and not compressed")) }

        let manifest = image.manifest(naming: known)
        try await putManifests(manifest, tags: tags, onEvent: onEvent)
        RememberedImage.remember(image, known: known, in: settings.blobCache, scope: scope, repository: store.repository, onEvent: onEvent)
        return PushedImage(registry: registryName, repository: store.repository, tags: tags, digest: manifest.digest)
    }

    /// Reads the image from the Engine and uploads what the store lacks. The known layers are recognised in the stream
    /// and not even compressed (unless the export is read again, `EngineImageExport`); either way a layer the set names
    /// is not uploaded.
    private func export(
        _ localImage: String, ahead: EngineExportAhead? = nil, known: KnownLayerSet, diffIDs: [String],
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> ExportedImage {
        let store = self.store
        let sendGrowing: @Sendable (GrowingLayer) async -> Bool = { layer in
            // The digest is not known yet: progress goes by the entry's name, the size by an estimate that follows the
            // compression ratio so far.
            let id = layer.shortID
            let throttle = ProgressThrottle(total: layer.uncompressedSize)
            onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: 0, total: layer.estimatedSize))))
            let sent = await store.uploadGrowing(
                layer,
                progress: { sent in
                    guard throttle.shouldReport(sent) else { return }
                    onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: sent, total: layer.estimatedSize))))
                }, onInfo: { onEvent(.info($0)) })
            if sent, let completion = layer.completion {
                onEvent(.push(PushEvent(id: id, status: .pushed, progress: ProgressDetail(current: completion.size, total: completion.size))))
            }
            return sent
        }
        return try await EngineImageExport.exportAndUpload(
            localImage, docker: docker, settings: settings, ahead: ahead, knownLayers: known, diffIDs: diffIDs,
            uploadGrowing: store.uploadsGrowingLayers ? sendGrowing : nil, onEvent: onEvent
        ) { blob in
            let done = PushEvent(id: blob.shortID, status: .alreadyExists, progress: ProgressDetail(current: blob.size, total: blob.size))
            if let diffID = blob.diffID, await known.settled()[diffID] != nil {
                onEvent(.push(done))
                return
            }
            if try await store.existing([blob.digest]).contains(blob.digest) {
                onEvent(.push(done))
                return
            }
            let throttle = ProgressThrottle(total: blob.size)
            onEvent(.push(PushEvent(id: blob.shortID, status: .pushing, progress: ProgressDetail(current: 0, total: blob.size))))
            try await store.upload(
                blob,
                progress: { sent in
                    guard throttle.shouldReport(sent) else { return }
                    onEvent(.push(PushEvent(id: blob.shortID, status: .pushing, progress: ProgressDetail(current: sent, total: blob.size))))
                }, onInfo: { onEvent(.info($0)) })
            onEvent(.push(PushEvent(id: blob.shortID, status: .pushed, progress: ProgressDetail(current: blob.size, total: blob.size))))
        }
    }

    /// The image and the layers the destination holds, once the copies taken on their word are over. A layer whose
    /// copy failed makes the image be read again, that layer compressed and uploaded: the manifest never names a
    /// blob the destination lacks.
    private func confirmed(
        _ image: ExportedImage, lookup: KnownLayerLookup, localImage: String, diffIDs: [String],
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> (ExportedImage, [String: KnownLayer]) {
        guard let confirmCopies = lookup.confirmCopies else { return (image, lookup.skippable) }
        let copied = try await confirmCopies()
        let lost = Set(lookup.copying.keys).subtracting(copied.keys)
        let known = lookup.held.merging(lookup.copying.filter { !lost.contains($0.key) }) { held, _ in held }
        // Even a lost layer the export compressed was not uploaded (the set named it): read again either way.
        guard !lost.isEmpty else { return (image, known) }
        onEvent(.info("\(lost.count) layers of the base could not be copied after all; reading \(localImage) again to compress them"))
        image.cleanup()
        let again = try await export(
            localImage, known: KnownLayerSet(known.mapValues(\.exportBlob)), diffIDs: diffIDs, onEvent: onEvent)
        return (again, known)
    }

    /// Layers of an image the cache does not know whole (the top layer rebuilt, say) that an earlier push sent to this
    /// registry, where the destination repository holds them now (present, or mounted from where they went): named
    /// by their blobs and only hashed in the export, neither compressed nor sent again. A big layer would otherwise be
    /// uploaded while it is compressed, before its digest could show that the registry has it.
    private func cachedLayers(
        _ diffIDs: [String], excluding base: Set<String>, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> [String: KnownLayer] {
        guard let cache = settings.blobCache else { return [:] }
        let mediaType = settings.compression == .zstd ? ExportedLayer.zstdMediaType : ExportedLayer.gzipMediaType
        let remembered = cache.layers(diffIDs: diffIDs.filter { !base.contains($0) }, registry: settings.cacheScope(registryName))
            .filter { ($0.value.blob.mediaType ?? ExportedLayer.gzipMediaType) == mediaType }
        guard !remembered.isEmpty else { return [:] }
        let blobStore = store
        let digests = Set(remembered.values.map(\.blob.digest))
        let present = try await blobStore.existing(Array(digests))
        var sources: [String: String] = [:]
        for (_, entry) in remembered where !present.contains(entry.blob.digest) { sources[entry.blob.digest] = entry.repository }
        let mounted = try await RememberedImage.mount(sources, into: blobStore, jobs: settings.jobs, onEvent: onEvent)
        let held = present.union(mounted)
        let known = remembered.filter { held.contains($0.value.blob.digest) }.mapValues {
            KnownLayer(digest: $0.blob.digest, size: $0.blob.size, mediaType: mediaType)
        }
        if !known.isEmpty { onEvent(.info("\(known.count) layers pushed before are in \(blobStore.place): not compressed or sent again")) }
        return known
    }

    private func putManifests(_ manifest: ImageManifest, tags: [String], onEvent: @Sendable (WorkflowEvent) -> Void) async throws {
        for tag in tags {
            onEvent(.tagging(tag))
            try await store.putManifest(manifest, tag: tag)
            onEvent(.tagged(tag))
            onEvent(.info("\(tag): digest: \(manifest.digest) size: \(manifest.bytes.count)"))
        }
    }
}
