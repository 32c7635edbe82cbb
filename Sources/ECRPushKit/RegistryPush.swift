import DockerEngine
import ECRLogin
import Foundation
import HTTPTransport
import ImageExport
import RegistryClient

/// The `registry` transport: pushes an image from the Docker Engine to the registry endpoint over the OCI
/// distribution API, with the ECR token's basic-auth login (`BlobPush` over a `RegistryBlobStore`). The image is
/// read from the Engine once, each layer compressed once, and up to `settings.jobs` blobs go up at the same time,
/// each as one streaming request from its file, starting while the Engine is still sending the layers after it.
/// It also makes `--transport auto`'s estimate, which needs the same registry.
package struct RegistryPush: Sendable {
    package private(set) var registry: RegistryClient
    package let docker: DockerClient
    package var settings: ExportSettings
    /// How base images in other registries are read (nil: only bases in the destination registry are reused).
    package var sources: SourceRegistries?
    /// The base's manifest in another registry, read while the login was made.
    var sourceAhead: SourceBaseAhead?
    /// The image's export, requested while the login was made (`EngineExportAhead`), for `push` to read.
    package var exportAhead: EngineExportAhead?

    package init(registry: RegistryClient, docker: DockerClient, settings: ExportSettings = ExportSettings()) {
        self.registry = registry
        self.docker = docker
        self.settings = settings
    }

    /// The registry behind an ECR login: its proxyEndpoint (or `endpoint`, e.g. `--registry`), with the login's
    /// `AWS:<password>` as basic auth (kept in memory, sent only in the Authorization header, only to the
    /// registry's origin). `freshLogin` is asked once when the registry refuses the login mid-push (a token that
    /// expired or was rotated during a long push).
    package init(
        login: RegistryLogin, endpoint: String? = nil, docker: DockerClient, settings: ExportSettings = ExportSettings(),
        http: HTTPClient = HTTPClient(), retryPolicy: RegistryRetryPolicy = RegistryRetryPolicy(),
        freshLogin: (@Sendable () async throws -> RegistryLogin)? = nil
    ) {
        var refresh: (@Sendable () async throws -> RegistryCredentials)?
        if let freshLogin {
            refresh = {
                let fresh = try await freshLogin()
                return RegistryCredentials(username: fresh.username, password: fresh.password)
            }
        }
        var client = RegistryClient(
            baseURL: endpoint ?? login.proxyEndpoint,
            credentials: RegistryCredentials(username: login.username, password: login.password), http: http,
            refreshLogin: refresh)
        client.retryPolicy = retryPolicy
        self.init(registry: client, docker: docker, settings: settings)
    }

    /// `registryName` names the result (`<registryName>/<repository>@<digest>`). Every retry is said as an
    /// info event before its wait. `estimate` (from `estimate(...)`) spares a second look-up of the image's
    /// ancestor, and a second look at its layers; `candidates`, gathered before, the Engine's part of that look-up;
    /// `inspected`, the Engine's inspection of `localImage` when the caller made it already.
    package func push(
        localImage: String, inspected: ImageInspect? = nil, destination: PushDestination, registryName: String,
        estimate: TransportEstimate? = nil, candidates: RegistryAncestor.Candidates? = nil, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage {
        let inspected = if let inspected { inspected } else { try await docker.requireImage(localImage) }
        let store = self.store(destination.repository, registryName: registryName, onEvent: onEvent)
        var push = BlobPush(store: store, docker: docker, settings: settings, registryName: registryName)
        push.exportAhead = exportAhead
        return try await push.push(localImage: localImage, image: inspected, tags: destination.tags, onEvent: onEvent) {
            var ancestor = estimate?.ancestor
            if estimate == nil, settings.reuseBaseLayers {
                ancestor =
                    if let candidates { RegistryAncestor.choose(for: inspected, among: candidates, preferredRegistry: registryName) } else {
                        try await RegistryAncestor.find(for: inspected, docker: docker, preferredRegistry: registryName)
                    }
            }
            // Beside the base's layers, in parallel: what the tag's current image shares, when enough of the image is
            // not the base for a layer of it to be sent while compressed (unseen by a HEAD first).
            let beyondBase = inspected.size - (ancestor?.size ?? 0)
            let readsCurrent = settings.reuseBaseLayers && beyondBase >= settings.growingLayerMinimumSize && !destination.tags.isEmpty
            async let current =
                readsCurrent
                ? CurrentImageLayers.known(image: inspected, tag: destination.tags[0], store: store, compression: settings.compression) : [:]
            var lookup = KnownLayerLookup()
            if let ancestor {
                let found = "layers of \(ancestor.reference) are in \(store.place)"
                if let copying = estimate?.pendingCopy {
                    // Left running beside this push by the estimate: its plan is taken on its word (the export skips
                    // those layers), and confirmed by its end.
                    let confirm: @Sendable () async throws -> [String: KnownLayer] = {
                        let copied = try await withTaskCancellationHandler {
                            try await copying.task.value
                        } onCancel: {
                            copying.task.cancel()
                        }
                        if !copied.isEmpty { onEvent(.info("\(copied.count) \(found)")) }
                        return copied
                    }
                    // The plan comes once the copy has asked the destination what it lacks (a few HEADs, which a
                    // loaded machine may not have finished when auto chose); the copy's end may be seconds later.
                    let plan = await withTaskCancellationHandler {
                        await copying.meter.planned()
                    } onCancel: {
                        copying.task.cancel()
                    }
                    if let plan {
                        lookup.copying = plan
                        lookup.confirmCopies = confirm
                    } else {
                        lookup.held = try await confirm()
                    }
                } else {
                    // Where the estimate already made sure of the base's layers (a base copied from another registry).
                    lookup.held = estimate?.knownLayers ?? [:]
                    if estimate?.knownLayers == nil {
                        lookup.held = try await baseLayers(
                            image: inspected, ancestor: ancestor, store: store, registryName: registryName, onEvent: onEvent)
                    }
                    if !lookup.held.isEmpty { onEvent(.info("\(lookup.held.count) \(found)")) }
                }
            }
            let base = lookup.skippable
            let shared = await current.filter { base[$0.key] == nil }
            if !shared.isEmpty {
                onEvent(.info("\(shared.count) layers of \(store.place):\(destination.tags[0]) as it is now are this image's too: not sent again"))
            }
            lookup.held.merge(shared) { base, _ in base }
            return lookup
        }
    }

    func store(_ repository: String, registryName: String, onEvent: @escaping @Sendable (WorkflowEvent) -> Void) -> RegistryBlobStore {
        var client = registry
        client.onRetry = { onEvent(.info($0.description)) }
        return RegistryBlobStore(client: client, repository: repository, registryName: registryName)
    }

    /// The ancestor's layers the destination repository holds, mounted or copied there where missing: from the
    /// destination registry itself, or from another one when `sources` says how to read it. Empty when base layers
    /// are not reused.
    func baseLayers(
        image: ImageInspect, ancestor: RegistryAncestor, store: RegistryBlobStore, registryName: String, meter: CopyMeter? = nil,
        namedByDiffID: Bool = false, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> [String: KnownLayer] {
        guard settings.reuseBaseLayers else { return [:] }
        let source: BaseSource
        if ancestor.registry == registryName {
            source = .registry(store.client, isDestination: true)
        } else if let read = await sourceAhead?.read(for: ancestor) {
            source = read.source
        } else if let sources {
            source = .registry(await sources.client(for: ancestor.registry, onEvent: onEvent), isDestination: false)
        } else {
            return [:]
        }
        return await BaseLayers.known(
            image: image, ancestor: ancestor, source: source, store: store, compression: settings.compression, jobs: settings.jobs,
            meter: meter, namedByDiffID: namedByDiffID, onEvent: onEvent)
    }

    /// `--transport auto`: whether this push costs less through the Engine's push or through this one, from the
    /// image's layers, its closest ancestor that came from a registry, and the blob cache. A base from another
    /// registry is copied to the destination repository first (the Engine would send it again otherwise; with it
    /// there, the Engine skips those layers as it does for a base from the destination registry).
    /// `candidates`: the ancestor's candidates gathered before (while the login was made), else gathered now;
    /// `inspected`: likewise for the Engine's inspection of `localImage`.
    package func estimate(
        localImage: String, inspected: ImageInspect? = nil, registryName: String, repository: String,
        candidates: RegistryAncestor.Candidates? = nil, onEvent: @escaping @Sendable (WorkflowEvent) -> Void = { _ in }
    ) async throws -> TransportEstimate {
        let image = if let inspected { inspected } else { try await docker.requireImage(localImage) }
        var ancestor: RegistryAncestor?
        if settings.reuseBaseLayers {
            ancestor =
                if let candidates { RegistryAncestor.choose(for: image, among: candidates, preferredRegistry: registryName) } else {
                    try await RegistryAncestor.find(for: image, docker: docker, preferredRegistry: registryName)
                }
        }
        let remembered = RememberedImage(cache: settings.blobCache, image: image, registry: settings.cacheScope(registryName)) != nil
        var rates = TransportEstimate.Rates()
        rates.copyProbeSeconds = settings.copyProbeSeconds
        rates.uploadBytesPerSecond = settings.uploadRate?.bytesPerSecond
        var knownLayers: [String: KnownLayer]?
        if let ancestor, ancestor.registry != registryName, !remembered, settings.compression == .gzip, sources != nil {
            let store = self.store(repository, registryName: registryName, onEvent: onEvent)
            let meter = CopyMeter()
            // A copy that takes a while (a slow link): ecrpush's push starts now, beside it. Not where the Engine's push
            // goes through the relay: its new layers go up beside the copy too, and it reads no more than they are.
            // The copy's progress then names the layers as the Engine's push does.
            let relayCarries =
                relayApplies(to: image) && EngineRelayPush.suits(image, ancestor: ancestor)
            let copying = Task {
                defer { meter.finish() }  // whatever way the copy ends, the probe stops waiting for it
                return try await baseLayers(
                    image: image, ancestor: ancestor, store: store, registryName: registryName, meter: meter, namedByDiffID: relayCarries,
                    onEvent: onEvent)
            }
            let beside: TransportEstimate?
            do {
                beside = relayCarries ? nil : try await Self.besideCopy(meter, image: image, ancestor: ancestor, rates: rates)
            } catch {
                copying.cancel()
                throw error
            }
            if var chosen = beside {
                chosen.pendingCopy = TransportEstimate.PendingCopy(task: copying, meter: meter)
                return chosen
            }
            knownLayers = try await withTaskCancellationHandler {
                try await copying.value
            } onCancel: {
                copying.cancel()
            }
        }
        let chosen = TransportEstimate.choose(
            image: image, ancestor: ancestor, destinationRegistry: registryName, knownLayers: knownLayers, remembered: remembered,
            zstd: settings.compression == .zstd, rates: rates)
        // Chosen for a fast link, where the link's rate was not given: measured, when the registry holds a blob to read.
        guard chosen.path == .registry, rates.uploadBytesPerSecond == nil, !remembered, settings.compression == .gzip,
            let probe = settings.linkProbe, let ancestor,
            let measured = try await measureLink(
                probe, ancestor: ancestor, image: image, knownLayers: knownLayers, registryName: registryName, repository: repository)
        else { return chosen }
        rates.uploadBytesPerSecond = measured.bytesPerSecond
        rates.measuredLink = measured
        return TransportEstimate.choose(
            image: image, ancestor: ancestor, destinationRegistry: registryName, knownLayers: knownLayers, remembered: remembered,
            zstd: false, rates: rates)
    }

    /// The link's rate (`LinkProbe`), read from the largest of the base's blobs the destination registry holds: in
    /// this repository when copied there, else in the ancestor's own repository of this registry. nil when there is
    /// none or it cannot be read.
    private func measureLink(
        _ probe: LinkProbe, ancestor: RegistryAncestor, image: ImageInspect, knownLayers: [String: KnownLayer]?, registryName: String,
        repository: String
    ) async throws -> LinkProbe.Measurement? {
        let client = registry
        let blobs: [KnownLayer]
        let blobRepository: String
        if let knownLayers, !knownLayers.isEmpty {
            (blobs, blobRepository) = (Array(knownLayers.values), repository)
        } else if ancestor.registry == registryName {
            let layers = try? await BaseLayers.sourceLayers(image: image, ancestor: ancestor) { repository, reference in
                try await client.manifest(repository: repository, reference: reference)
            }
            (blobs, blobRepository) = (layers ?? [], ancestor.location.repository)
        } else {
            return nil
        }
        guard let largest = blobs.max(by: { $0.size < $1.size }) else { return nil }
        return try await probe.measure(client: client, repository: blobRepository, blob: largest)
    }

    /// Waits for the copy to end, up to the probe time after its transfers began (or, when they have not begun,
    /// after it started); when it has not ended, asks `TransportEstimate.besideCopy` with its rate so far.
    private static func besideCopy(
        _ meter: CopyMeter, image: ImageInspect, ancestor: RegistryAncestor, rates: TransportEstimate.Rates
    ) async throws -> TransportEstimate? {
        let probe = Duration.milliseconds(Int(rates.copyProbeSeconds * 1000))
        let start = ContinuousClock.now
        while !meter.isFinished, ContinuousClock.now < (meter.transfersBegan ?? start) + probe {
            try await Task.sleep(for: .milliseconds(10))
        }
        guard !meter.isFinished else { return nil }
        return TransportEstimate.besideCopy(image: image, ancestor: ancestor, copyRemaining: meter.remainingSeconds(), rates: rates)
    }
}
