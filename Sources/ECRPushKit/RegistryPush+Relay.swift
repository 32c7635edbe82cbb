import DockerEngine

extension RegistryPush {
    /// The Engine's push through ecrpush's relay (`EngineRelayPush`) into `destination`'s repository over the
    /// distribution API with this push's login, whatever the size of its new layers (the relay sends a big upload on
    /// as it arrives, as quick as the Engine's own push). `ahead`: that push, started while the login was made; else
    /// it starts now. nil when the relay does not apply or the Engine could not reach it: the caller then has the
    /// Engine push to the registry itself. `uploads`: the destination the relay's uploads went to before the choice
    /// (`relayUploads`), whose check of the config this one takes over.
    func pushThroughRelay(
        image: ImageInspect, destination: PushDestination, registryName: String, estimate: TransportEstimate?,
        candidates: RegistryAncestor.Candidates?, ahead: EngineRelayAhead?, uploads: StoreRelayUpstream? = nil,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage? {
        guard relayApplies(to: image) else { return nil }
        let upstream = relayUpstream(
            image: image, destination: destination, registryName: registryName, estimate: estimate, candidates: candidates,
            config: uploads?.config, onEvent: onEvent)
        defer { upstream.base.cancel() }
        // In place of the Engine's line, which names the relay.
        onEvent(.push(PushEvent(status: .other("The push refers to repository [\(registryName)/\(destination.repository)]"))))
        let digest =
            if let ahead { try await ahead.proceed(to: upstream) } else {
                try await EngineRelayPush(docker: docker, settings: settings).push(
                    source: image.id, repository: destination.repository, tags: destination.tags, upstream: upstream, onEvent: onEvent)
            }
        guard let digest else { return nil }
        return PushedImage(registry: registryName, repository: destination.repository, tags: destination.tags, digest: digest)
    }

    /// Whether `pushThroughRelay` tries the relay for `image` (and names the destination in the Engine's stead).
    func relayApplies(to image: ImageInspect) -> Bool {
        settings.engineRelay && EngineRelayPush.applies(to: image, docker: docker)
    }

    /// The repository as the destination of the relay's uploads only, before the push's choice: through this push's
    /// client, so that the sessions prepared for them serve the destination `pushThroughRelay` names later. The
    /// config (`configDigest`) is checked now, beside the choice's checks of the base.
    func relayUploads(
        to repository: String, registryName: String, configDigest: String?, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) -> StoreRelayUpstream {
        StoreRelayUpstream(
            store: store(repository, registryName: registryName, onEvent: onEvent), tags: [], base: Task { [:] }, configDigest: configDigest,
            onEvent: onEvent)
    }

    /// The repository as the relay's destination: the base's layers mounted (or, as the estimate left them, copied)
    /// into it beside the Engine's start, so that the Engine's checks find them.
    private func relayUpstream(
        image: ImageInspect, destination: PushDestination, registryName: String, estimate: TransportEstimate?,
        candidates: RegistryAncestor.Candidates?, config: RelayConfigCheck?, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) -> StoreRelayUpstream {
        let store = self.store(destination.repository, registryName: registryName, onEvent: onEvent)
        let (settings, push) = (self.settings, self)
        let base = Task<[String: KnownLayer], Never> {
            if let known = estimate?.knownLayers { return known }
            guard settings.reuseBaseLayers,
                let ancestor = await push.relayAncestor(of: image, registryName: registryName, estimate: estimate, candidates: candidates)
            else { return [:] }
            return
                (try? await push.baseLayers(
                    image: image, ancestor: ancestor, store: store, registryName: registryName, namedByDiffID: true, onEvent: onEvent)) ?? [:]
        }
        return StoreRelayUpstream(
            store: store, tags: destination.tags, base: base, configDigest: image.id, config: config.flatMap { $0.digest == image.id ? $0 : nil },
            onEvent: onEvent)
    }

    /// The image's ancestor from a registry: the estimate's, else chosen among the candidates, else looked up.
    private func relayAncestor(
        of image: ImageInspect, registryName: String, estimate: TransportEstimate?, candidates: RegistryAncestor.Candidates?
    ) async -> RegistryAncestor? {
        if let estimate { return estimate.ancestor }
        if let candidates { return RegistryAncestor.choose(for: image, among: candidates, preferredRegistry: registryName) }
        return try? await RegistryAncestor.find(for: image, docker: docker, preferredRegistry: registryName)
    }
}
