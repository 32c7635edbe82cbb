import DockerEngine
import Foundation
import ImageExport
import Synchronization

/// One image to several destinations in one pass (`--registry` and `--repository` repeated): the image is read
/// from the Engine and each layer compressed once, and every blob goes to every registry at the same time, each
/// destination with its own login. Within one registry a blob is uploaded to its first repository only and mounted
/// into the others. A destination that fails is dropped and said; the others go on, and the result lists each
/// one's outcome. Every destination gets the same manifest (one digest): a base layer is named by the base's blob
/// only where every destination holds it.
///
/// Several platforms (`--platform a,b`): each platform's image is pushed so, by digest, then one index naming them
/// (a Docker manifest list, or an OCI index for OCI manifests) is put under the tags.
package struct FanOutPush: Sendable {
    /// One destination: where its blobs go, and what names it in the result.
    package struct Target: Sendable {
        let store: any BlobStore
        let registryName: String
    }

    package struct Outcome: Sendable {
        package var destination: RepositoryLocation
        package var result: Result<PushedImage, any Error>
    }

    /// Each destination's outcome and, for several platforms, each platform's image (the outcomes' digest is then the
    /// index's).
    package struct Report: Sendable {
        package var outcomes: [Outcome]
        package var platforms: [PlatformImage] = []
        /// The index's media type; nil for one image.
        package var indexMediaType: String?
        /// `--skip-existing`: the tags already named an image; nothing was built or pushed.
        package var alreadyPushed = false
    }

    let targets: [Target]
    let docker: DockerClient
    let settings: ExportSettings
    /// How a base in another registry is read, to copy its blobs into every destination (nil: only a base in the
    /// destinations' registry is reused).
    package var sources: SourceRegistries?
    /// The base's manifest in another registry, read while the destinations logged in.
    var sourceAhead: SourceBaseAhead?
    /// The base's layers being got into every destination already (`knownBaseLayers`, started by `auto`'s choice):
    /// the push of one image takes them from there instead of looking again.
    package var baseLayersUnderWay: Task<[String: KnownLayer], any Error>?
    /// `push`'s export, requested while the destinations were logged in (`EngineExportAhead`): read instead of a new
    /// one by the push of that image.
    package var exportAhead: EngineExportAhead?
    /// The destinations were listed already (by the Engine path that handed this push over after a failure).
    var announced = false
    /// Shared by every image of this push: a destination that failed one platform gets none of the others.
    private let failures = Failures()

    /// `registry` transport targets: each a registry client (its login) and the repository there.
    package init(registries: [(push: RegistryPush, registryName: String, repository: String)], docker: DockerClient, settings: ExportSettings) {
        targets = registries.map { entry in
            Target(
                store: RegistryBlobStore(client: entry.push.registry, repository: entry.repository, registryName: entry.registryName),
                registryName: entry.registryName)
        }
        self.docker = docker
        self.settings = settings
    }

    package func push(localImage: String, tags: [String], onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async throws -> [Outcome] {
        let inspected = try await docker.requireImage(localImage)
        if !announced { announce(onEvent) }
        let manifest = try await pushImage(localImage, inspected: inspected, tags: tags, onEvent: onEvent)
        return outcomes(tags: tags, digest: manifest.digest)
    }

    /// Each `(platform, local image)` pushed by digest, then the index naming them put under `tags`. Every image's
    /// platform (its config's) is checked against the one asked for before anything is read or uploaded.
    package func push(
        platformImages: [(platform: ImagePlatform, localImage: String)], tags: [String], onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> Report {
        var images: [(platform: ImagePlatform, localImage: String, inspected: ImageInspect)] = []
        for (requested, localImage) in platformImages {
            let inspected = try await docker.requireImage(localImage)
            let built = ImagePlatform(os: inspected.os ?? "", architecture: inspected.architecture ?? "", variant: inspected.variant)
            guard built.satisfies(requested), !images.contains(where: { $0.platform.normalized == built.normalized }) else {
                throw ECRPushError.platformMismatch(requested: requested.description, built: built.description)
            }
            images.append((built, localImage, inspected))
        }
        announce(onEvent)
        var entries: [ImageManifest.IndexEntry] = []
        for image in images {
            onEvent(.info("Pushing the \(image.platform) image (\(image.localImage)) by digest"))
            let manifest = try await pushImage(image.localImage, inspected: image.inspected, tags: [], onEvent: onEvent)
            entries.append(ImageManifest.IndexEntry(manifest, platform: image.platform))
            onEvent(.info("\(image.platform): digest: \(manifest.digest) size: \(manifest.bytes.count)"))
        }
        let index = ImageManifest.index(entries)
        try await putManifest(index, tags: tags, onEvent: onEvent) { _ in }
        return Report(
            outcomes: outcomes(tags: tags, digest: index.digest),
            platforms: entries.map { PlatformImage(platform: $0.platform.description, digest: $0.digest, mediaType: $0.mediaType) },
            indexMediaType: index.mediaType)
    }

    func announce(_ onEvent: @Sendable (WorkflowEvent) -> Void) {
        for (number, target) in targets.enumerated() { onEvent(.info("Destination \(number + 1): \(target.store.place)")) }
    }

    private func fail(_ number: Int, _ error: any Error, onEvent: @Sendable (WorkflowEvent) -> Void) {
        let first = failures.record(number, error)
        if first { onEvent(.info("Destination \(number + 1) (\(targets[number].store.place)) failed: \(error); the others go on")) }
    }

    /// The destinations that have not failed, grouped by registry (in the order given).
    func liveByRegistry() -> [[(number: Int, target: Target)]] {
        let failed = Set(failures.all.keys)
        return targets.enumerated().filter { !failed.contains($0.offset) }.map { (number: $0.offset, target: $0.element) }
            .groupedInOrder { $0.target.registryName }
    }

    private func firstFailure() -> any Error {
        let failed = failures.all
        return failed.keys.min().flatMap { failed[$0] } ?? CancellationError()
    }

    /// Reads the image once and gives each blob to every live destination; then the manifest is put under `tags`
    /// (by its digest when `tags` is empty). Throws when no destination is left.
    private func pushImage(
        _ localImage: String, inspected: ImageInspect, tags: [String], onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> ImageManifest {
        guard !liveByRegistry().isEmpty else { throw firstFailure() }
        if let remembered = await rememberedEverywhere(inspected, onEvent: onEvent) {
            try await putManifest(remembered.manifest, tags: tags, onEvent: onEvent) { _ in }
            guard !liveByRegistry().isEmpty else { throw firstFailure() }
            return remembered.manifest
        }
        // The export is requested at once (the Engine writes the whole image out before its first byte); the base's
        // layers are got into every destination meanwhile, and the first layer entry waits for them.
        let knownSet = KnownLayerSet.pending()
        async let pendingKnown = knownBaseLayers(of: inspected, settling: knownSet, onEvent: onEvent)
        let ahead = exportAhead.flatMap { $0.image == localImage ? $0 : nil }
        onEvent(.info("Reading \(localImage) from the Docker Engine" + (ahead == nil ? "" : " (asked for while logging in)")))
        let image: ExportedImage
        do {
            image = try await EngineImageExport.exportAndUpload(
                localImage, docker: docker, settings: settings, ahead: ahead, knownLayers: knownSet, diffIDs: inspected.rootFS.layers,
                onEvent: onEvent
            ) { blob in
                if let diffID = blob.diffID, await knownSet.settled()[diffID] != nil { return }
                await withTaskGroup(of: Void.self) { group in
                    for members in liveByRegistry() {
                        group.addTask { await give(blob, to: members, onEvent: onEvent) }
                    }
                }
                try Task.checkCancellation()
                if liveByRegistry().isEmpty { throw firstFailure() }
            }
        } catch {
            // A failed look-up stops the export: its own error says what happened.
            if knownSet.hasFailed { _ = try await pendingKnown }
            throw error
        }
        defer { image.cleanup() }
        let knownLayers = try await pendingKnown

        let manifest = image.manifest(naming: knownLayers)
        try await putManifest(manifest, tags: tags, onEvent: onEvent) { target in
            RememberedImage.remember(
                image, known: knownLayers, in: settings.blobCache, scope: settings.cacheScope(target.registryName),
                repository: target.store.repository, onEvent: onEvent)
        }
        return manifest
    }

    /// The image as the blob cache remembers it in every live destination's registry (one manifest for all), when
    /// every destination still holds its blobs or gets them mounted: then nothing is read from the Engine. nil
    /// when one registry does not remember it, remembers other blobs, lost one, or could not be asked (the export's
    /// path then reports that destination's failure and goes on with the others).
    private func rememberedEverywhere(_ image: ImageInspect, onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async -> RememberedImage? {
        let settings = self.settings
        let live = liveByRegistry().joined().map(\.target)
        let remembered = live.compactMap { RememberedImage(cache: settings.blobCache, image: image, registry: settings.cacheScope($0.registryName)) }
        guard let first = remembered.first, remembered.count == live.count, remembered.allSatisfy({ $0.manifest.digest == first.manifest.digest })
        else { return nil }
        return await withTaskGroup(of: Bool.self) { group in
            for (target, image) in zip(live, remembered) {
                group.addTask {
                    let held = try? await image.isHeld(
                        by: target.store, cache: settings.blobCache, scope: settings.cacheScope(target.registryName), jobs: settings.jobs,
                        onEvent: onEvent)
                    return held ?? false
                }
            }
            var everywhere = true
            for await held in group { everywhere = everywhere && held }
            return everywhere ? first : nil
        }
    }

    /// One blob to the repositories of one registry, one after another: the first that lacks it gets it uploaded,
    /// the others get it mounted from a repository that has it (uploaded only when the mount is refused).
    private func give(_ blob: PreparedBlob, to members: [(number: Int, target: Target)], onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async {
        var holder: String?
        for (number, target) in members {
            let id = "\(blob.shortID)@\(number + 1)"
            let done = ProgressDetail(current: blob.size, total: blob.size)
            do {
                if try await target.store.existing([blob.digest]).contains(blob.digest) {
                    onEvent(.push(PushEvent(id: id, status: .alreadyExists, progress: done)))
                    holder = holder ?? target.store.repository
                    continue
                }
                if let source = holder, try await target.store.mount(blob.digest, from: source) {
                    onEvent(.push(PushEvent(id: id, status: .mounted(from: source), progress: done)))
                    continue
                }
                let throttle = ProgressThrottle(total: blob.size)
                try await target.store.upload(
                    blob,
                    progress: { sent in
                        guard throttle.shouldReport(sent) else { return }
                        onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: sent, total: blob.size))))
                    }, onInfo: { onEvent(.info($0)) })
                onEvent(.push(PushEvent(id: id, status: .pushed, progress: done)))
                holder = target.store.repository
            } catch is CancellationError {
                return
            } catch {
                // The export failed (and will be read again, or the push ends with its error): this destination did not.
                if Task.isCancelled || blob.fileIsGone { return }
                fail(number, error, onEvent: onEvent)
            }
        }
    }

    /// `manifest` put under every tag (by its digest when there is none) in every live destination at once;
    /// `then` runs for each destination that took it. A destination that refuses it is a failure of its own.
    private func putManifest(
        _ manifest: ImageManifest, tags: [String], onEvent: @escaping @Sendable (WorkflowEvent) -> Void,
        then: @escaping @Sendable (Target) -> Void
    ) async throws {
        await withTaskGroup(of: Void.self) { group in
            for (number, target) in liveByRegistry().joined() {
                group.addTask {
                    do {
                        if tags.isEmpty { try await target.store.putManifest(manifest, tag: manifest.digest) }
                        for tag in tags {
                            onEvent(.tagging(tag))
                            try await target.store.putManifest(manifest, tag: tag)
                            onEvent(.tagged(tag))
                        }
                        then(target)
                    } catch {
                        fail(number, error, onEvent: onEvent)
                    }
                }
            }
        }
        try Task.checkCancellation()
    }

    private func outcomes(tags: [String], digest: String) -> [Outcome] {
        let failed = failures.all
        return targets.enumerated().map { number, target in
            let location = RepositoryLocation(registry: target.registryName, repository: target.store.repository)
            if let error = failed[number] { return Outcome(destination: location, result: .failure(error)) }
            return Outcome(
                destination: location,
                result: .success(PushedImage(registry: target.registryName, repository: target.store.repository, tags: tags, digest: digest)))
        }
    }
}

/// Which destinations failed, and why: written from upload tasks, read between steps.
private final class Failures: Sendable {
    private let failed = Mutex<[Int: any Error]>([:])

    /// True when this is the destination's first failure.
    func record(_ number: Int, _ error: any Error) -> Bool {
        failed.withLock { failed in
            guard failed[number] == nil else { return false }
            failed[number] = error
            return true
        }
    }

    var all: [Int: any Error] { failed.withLock { $0 } }
}
