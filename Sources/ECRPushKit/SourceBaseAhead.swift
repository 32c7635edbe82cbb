import RegistryClient

/// The manifest of a base that lives in another registry, read while the destination's login is made. Reading it
/// needs nothing of the destination (its own login, a token service's token, or none), and it is the first thing the
/// push needs once logged in: for a base from Docker Hub, a token and a manifest round trip there that no longer come
/// after the login. The client it was read with (and its token) reads the base's blobs afterwards.
struct SourceBaseAhead: Sendable {
    let ancestor: RegistryAncestor
    private let task: Task<(client: RegistryClient, manifest: Result<FetchedManifest?, any Error>), Never>

    static func start(
        ancestor: RegistryAncestor, sources: SourceRegistries, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) -> SourceBaseAhead {
        SourceBaseAhead(
            ancestor: ancestor,
            task: Task {
                let client = await sources.client(for: ancestor.registry, onEvent: onEvent)
                do {
                    return (client, .success(try await client.manifest(repository: ancestor.location.repository, reference: ancestor.digest)))
                } catch {
                    return (client, .failure(error))
                }
            })
    }

    /// The base read ahead, when `ancestor` is the one it read (the login may name a registry that makes another
    /// ancestor the preferred one): its manifest as read then (or the error it met), anything else from its client.
    func source(for ancestor: RegistryAncestor) async -> BaseSource? {
        guard ancestor == self.ancestor else { return nil }
        let (client, manifest) = await task.value
        let read = (ancestor.location.repository, ancestor.digest)
        return BaseSource(otherRegistry: client) { repository, reference in
            if (repository, reference) == read { return try manifest.get() }
            return try await client.manifest(repository: repository, reference: reference)
        }
    }

    func cancel() { task.cancel() }
}
