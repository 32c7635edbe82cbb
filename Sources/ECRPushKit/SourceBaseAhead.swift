import ECRLogin
import RegistryClient

/// The manifest of a base that lives in another registry, read while the destinations' logins are made. Reading it
/// needs nothing of a destination (its own login, a token service's token, or none), and it is the first thing the
/// push needs once logged in: for a base from Docker Hub, a token and a manifest round trip there that no longer come
/// after the login. The client it was read with (and its token) reads the base's blobs afterwards.
struct SourceBaseAhead: Sendable {
    /// What was read, for the ancestor it was read for.
    struct Read: Sendable {
        let ancestor: RegistryAncestor
        let client: RegistryClient
        let manifest: Result<FetchedManifest?, any Error>

        /// The manifest as read then (or the error it met) for the ancestor's own reference; anything else from the
        /// client.
        var readManifest: @Sendable (_ repository: String, _ reference: String) async throws -> FetchedManifest? {
            { [ancestor, client, manifest] repository, reference in
                if repository == ancestor.location.repository, reference == ancestor.digest { return try manifest.get() }
                return try await client.manifest(repository: repository, reference: reference)
            }
        }

        /// The base to copy from its registry.
        var source: BaseSource { BaseSource(otherRegistry: client, readManifest: readManifest) }

        /// The base already copied into `repository` of the destination's registry, mounted from there.
        func copied(into repository: String) -> BaseSource {
            BaseSource(otherRegistry: nil, mountRepository: repository, readManifest: readManifest)
        }
    }

    private let task: Task<Read?, Never>

    /// Reads the manifest of the ancestor `ancestor` finds, when that ancestor is elsewhere than every destination.
    /// `destinationRegistries`: each destination's `--registry` (nil: the login names it, an ECR registry).
    static func start(
        destinationRegistries: [String?], sources: SourceRegistries, onEvent: @escaping @Sendable (WorkflowEvent) -> Void,
        ancestor: @escaping @Sendable () async -> RegistryAncestor?
    ) -> SourceBaseAhead {
        SourceBaseAhead(
            task: Task {
                guard let ancestor = await ancestor(), isElsewhere(ancestor, destinationRegistries: destinationRegistries) else { return nil }
                let client = await sources.client(for: ancestor.registry, onEvent: onEvent)
                do {
                    let manifest = try await client.manifest(repository: ancestor.location.repository, reference: ancestor.digest)
                    return Read(ancestor: ancestor, client: client, manifest: .success(manifest))
                } catch {
                    return Read(ancestor: ancestor, client: client, manifest: .failure(error))
                }
            })
    }

    /// Whether the ancestor's registry cannot be a destination's, before the logins name them: no `--registry` names
    /// it, and either every destination has one or it is no ECR registry.
    static func isElsewhere(_ ancestor: RegistryAncestor, destinationRegistries: [String?]) -> Bool {
        guard !destinationRegistries.contains(ancestor.registry) else { return false }
        return !destinationRegistries.contains(nil) || RegistryHost.parse(ancestor.registry) == nil
    }

    /// What was read, when it was read for `ancestor` (the logins may make another ancestor the preferred one).
    func read(for ancestor: RegistryAncestor) async -> Read? {
        guard let read = await task.value, read.ancestor == ancestor else { return nil }
        return read
    }

    func cancel() { task.cancel() }
}
