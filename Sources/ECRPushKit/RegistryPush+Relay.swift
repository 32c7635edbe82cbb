import DockerEngine

extension RegistryPush {
    /// The Engine's push through ecrpush's relay (`EngineRelayPush`) into `destination`'s repository over the
    /// distribution API with this push's login: the base's layers mounted (or, as the estimate left them, copied)
    /// into the repository beside the Engine's start, so that its checks find them. nil when the relay does not apply
    /// or the Engine could not reach it: the caller then has the Engine push to the registry itself.
    func pushThroughRelay(
        image: ImageInspect, destination: PushDestination, registryName: String, estimate: TransportEstimate?,
        candidates: RegistryAncestor.Candidates?, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage? {
        guard settings.engineRelay, EngineRelayPush.applies(to: image, docker: docker) else { return nil }
        let store = self.store(destination.repository, registryName: registryName, onEvent: onEvent)
        let (docker, settings) = (self.docker, self.settings)
        let push = self
        let base = Task<[String: KnownLayer], Never> {
            if let known = estimate?.knownLayers { return known }
            guard settings.reuseBaseLayers else { return [:] }
            let ancestor: RegistryAncestor?
            if let estimate {
                ancestor = estimate.ancestor
            } else if let candidates {
                ancestor = RegistryAncestor.choose(for: image, among: candidates, preferredRegistry: registryName)
            } else {
                ancestor = try? await RegistryAncestor.find(for: image, docker: docker, preferredRegistry: registryName)
            }
            guard let ancestor else { return [:] }
            return (try? await push.baseLayers(image: image, ancestor: ancestor, store: store, registryName: registryName, onEvent: onEvent)) ?? [:]
        }
        defer { base.cancel() }
        let upstream = StoreRelayUpstream(store: store, tags: destination.tags, base: base, onEvent: onEvent)
        guard
            let digest = try await EngineRelayPush(docker: docker, settings: settings).push(
                image: image, repository: destination.repository, tags: destination.tags, upstream: upstream, onEvent: onEvent)
        else { return nil }
        return PushedImage(registry: registryName, repository: destination.repository, tags: destination.tags, digest: digest)
    }
}
