import DockerEngine
import ImageExport
import RegistryClient

extension FanOutPush {
    /// `knownBaseLayers`, settling `set` with what it found, or with its failure, for the export that runs meanwhile.
    func knownBaseLayers(
        of image: ImageInspect, settling set: KnownLayerSet, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> [String: KnownLayer] {
        try await set.settle(reason: "the base's layers could not be looked up", blobs: { $0.mapValues(\.exportBlob) }) {
            guard let underWay = baseLayersUnderWay else { return try await knownBaseLayers(of: image, onEvent: onEvent) }
            return try await withTaskCancellationHandler {
                try await underWay.value
            } onCancel: {
                underWay.cancel()
            }
        }
    }

    /// The base's layers where every live destination holds them: mounted from the base's repository when it lives in
    /// the destination's registry, else copied from its own registry (through `sources`). Registries are served at
    /// the same time; within one, the base is copied into the first repository and mounted from there into the
    /// others. A layer some destination lacks is not known: the manifest, the same for all, never names it.
    func knownBaseLayers(of image: ImageInspect, onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async throws -> [String: KnownLayer] {
        guard settings.reuseBaseLayers else { return [:] }
        return await knownBaseLayers(of: image, ancestor: try await ancestor(of: image), onEvent: onEvent)
    }

    /// The image's ancestor from a registry, preferring the first destination's registry (nil: none).
    package func ancestor(of image: ImageInspect) async throws -> RegistryAncestor? {
        try await RegistryAncestor.find(for: image, docker: docker, preferredRegistry: targets.first?.registryName)
    }

    /// `knownBaseLayers` for an ancestor found before.
    package func knownBaseLayers(
        of image: ImageInspect, ancestor: RegistryAncestor?, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async -> [String: KnownLayer] {
        guard settings.reuseBaseLayers, let ancestor else { return [:] }
        // The live destinations, by registry (a destination that failed an earlier platform gets nothing).
        let byRegistry = liveByRegistry().map { $0.compactMap { $0.target.store as? RegistryBlobStore } }
        guard byRegistry.joined().count == liveByRegistry().joined().count else { return [:] }
        // The ancestor's own registry, when some destination is elsewhere: with the login of a destination there (a
        // base in one region's registry, pushed to two regions), else asked for once.
        var elsewhere: RegistryClient?
        var readAhead: SourceBaseAhead.Read?
        if byRegistry.joined().contains(where: { $0.registryName != ancestor.registry }) {
            if let destination = byRegistry.joined().first(where: { $0.registryName == ancestor.registry }) {
                elsewhere = destination.client
            } else if let read = await sourceAhead?.read(for: ancestor) {
                (elsewhere, readAhead) = (read.client, read)
            } else {
                guard let sources else { return [:] }
                elsewhere = await sources.client(for: ancestor.registry, onEvent: onEvent)
            }
        }
        let settings = self.settings
        let (copyFrom, read) = (elsewhere, readAhead)
        return await withTaskGroup(of: [String: KnownLayer].self) { group in
            for stores in byRegistry {
                group.addTask {
                    var shared: [String: KnownLayer]?
                    for (index, store) in stores.enumerated() {
                        let source: BaseSource =
                            if let read, store.registryName != ancestor.registry {
                                index == 0 ? read.source : read.copied(into: stores[0].repository)
                            } else if let copyFrom, store.registryName != ancestor.registry {
                                index == 0 ? .registry(copyFrom, isDestination: false) : .copied(into: stores[0].repository, from: copyFrom)
                            } else {
                                .registry(store.client, isDestination: true)
                            }
                        let held = await BaseLayers.known(
                            image: image, ancestor: ancestor, source: source, store: store, compression: settings.compression,
                            jobs: settings.jobs, onEvent: onEvent)
                        shared = (shared ?? held).filter { held[$0.key] == $0.value }
                    }
                    return shared ?? [:]
                }
            }
            var known: [String: KnownLayer]?
            for await held in group { known = (known ?? held).filter { held[$0.key] == $0.value } }
            return known ?? [:]
        }
    }
}
