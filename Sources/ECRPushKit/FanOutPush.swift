import DockerEngine
import Foundation
import ImageExport
import Synchronization

/// One image to several destinations in one pass (`--registry` repeated): the image is read from the Engine and
/// each layer compressed once, and every blob goes to every destination at the same time, each destination with
/// its own login. A destination that fails is dropped and said; the others go on, and the result lists each one's
/// outcome. Every destination gets the same manifest (one digest): a base layer is named by the base's blob only
/// where every destination holds it.
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

    let targets: [Target]
    let docker: DockerClient
    let settings: ExportSettings

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
        guard let inspected = try await docker.inspectImage(localImage) else { throw DockerError.imageNotFound(localImage) }
        for (number, target) in targets.enumerated() { onEvent(.info("Destination \(number + 1): \(target.store.place)")) }
        let failures = Failures()
        let targets = self.targets
        @Sendable func fail(_ number: Int, _ error: any Error) {
            let first = failures.record(number, error)
            if first { onEvent(.info("Destination \(number + 1) (\(targets[number].store.place)) failed: \(error); the others go on")) }
        }
        @Sendable func live() -> [(Int, Target)] {
            let failed = Set(failures.all.keys)
            return targets.enumerated().filter { !failed.contains($0.offset) }.map { ($0.offset, $0.element) }
        }

        // The base's layers, where every destination holds them (mounted or copied there first).
        var known: [String: KnownLayer] = [:]
        if settings.reuseBaseLayers, let ancestor = try await RegistryAncestor.find(for: inspected, docker: docker) {
            var shared: [String: KnownLayer]?
            for target in targets {
                guard let store = target.store as? RegistryBlobStore, ancestor.registry == target.registryName else {
                    shared = [:]
                    break
                }
                let held = await BaseLayers.known(
                    image: inspected, ancestor: ancestor, source: .registry(store.client, isDestination: true), store: store,
                    compression: settings.compression, jobs: settings.jobs, onEvent: onEvent)
                shared = (shared ?? held).filter { held[$0.key] == $0.value }
            }
            known = shared ?? [:]
        }

        onEvent(.info("Reading \(localImage) from the Docker Engine"))
        let knownLayers = known
        let skipped = knownLayers.mapValues(\.exportBlob)
        let image = try await EngineImageExport.exportAndUpload(
            localImage, docker: docker, settings: settings, knownLayers: skipped, diffIDs: inspected.rootFS.layers
        ) { blob in
            if let diffID = blob.diffID, knownLayers[diffID] != nil { return }
            await withTaskGroup(of: Void.self) { group in
                for (number, target) in live() {
                    group.addTask {
                        let id = "\(blob.shortID)@\(number + 1)"
                        do {
                            if try await target.store.existing([blob.digest]).contains(blob.digest) {
                                onEvent(
                                    .push(PushEvent(id: id, status: .alreadyExists, progress: ProgressDetail(current: blob.size, total: blob.size))))
                                return
                            }
                            let throttle = ProgressThrottle(total: blob.size)
                            try await target.store.upload(
                                blob,
                                progress: { sent in
                                    guard throttle.shouldReport(sent) else { return }
                                    onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: sent, total: blob.size))))
                                }, onInfo: { onEvent(.info($0)) })
                            onEvent(.push(PushEvent(id: id, status: .pushed, progress: ProgressDetail(current: blob.size, total: blob.size))))
                        } catch is CancellationError {
                        } catch {
                            fail(number, error)
                        }
                    }
                }
            }
            try Task.checkCancellation()
            if live().isEmpty { throw failures.all[0] ?? CancellationError() }
        }
        defer { image.cleanup() }

        let manifest = image.manifest(naming: knownLayers)
        await withTaskGroup(of: Void.self) { group in
            for (number, target) in live() {
                group.addTask {
                    do {
                        for tag in tags {
                            onEvent(.tagging(tag))
                            try await target.store.putManifest(manifest, tag: tag)
                            onEvent(.tagged(tag))
                        }
                        RememberedImage.remember(
                            image, known: knownLayers, in: settings.blobCache, scope: settings.cacheScope(target.registryName),
                            repository: target.store.repository, onEvent: onEvent)
                    } catch {
                        fail(number, error)
                    }
                }
            }
        }
        let failed = failures.all
        return targets.enumerated().map { number, target in
            let location = RepositoryLocation(registry: target.registryName, repository: target.store.repository)
            if let error = failed[number] { return Outcome(destination: location, result: .failure(error)) }
            return Outcome(
                destination: location,
                result: .success(PushedImage(registry: target.registryName, repository: target.store.repository, tags: tags, digest: manifest.digest))
            )
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
