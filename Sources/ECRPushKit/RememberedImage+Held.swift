import DockerEngine

extension RememberedImage {
    /// True when `store` still has every blob the cache remembers for the image (then no export is needed): in its
    /// repository, or mounted from the one it was last pushed to. Otherwise the cache forgets the blobs that could
    /// be neither found nor mounted. `scope`: the registry's name in the cache.
    func isHeld(
        by store: any BlobStore, cache: BlobDigestCache?, scope: String, jobs: Int, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> Bool {
        let digests = blobs.map(\.digest)
        let present = try await store.existing(digests)
        let missing = Set(digests).subtracting(present)
        // A refused or failed mount is no error: the image is then read and the blob uploaded.
        let mounted = try await Self.mount(repositories.filter { missing.contains($0.key) }, into: store, jobs: jobs, onEvent: onEvent)
        return confirm(missing: missing.subtracting(mounted), mounted: mounted, cache: cache, scope: scope, place: store.place, onEvent: onEvent)
    }

    /// Mounts blobs pushed before to another repository of the store's registry (`sources`: digest → that
    /// repository), a few at a time, and says so for each; returns the digests mounted. Refused or failed mounts are
    /// left out.
    static func mount(
        _ sources: [String: String?], into store: any BlobStore, jobs: Int, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> Set<String> {
        let mountFrom = sources.compactMapValues { $0 }.filter { $0.value != store.repository }
        let mounted = try await digests(Array(mountFrom.keys), jobs: max(jobs, 8)) { digest in
            guard let source = mountFrom[digest] else { return false }
            return try await store.mount(digest, from: source)
        }
        for (digest, source) in mountFrom.sorted(by: { $0.key < $1.key }) where mounted.contains(digest) {
            onEvent(.push(PushEvent(id: PreparedBlob.shortID(digest), status: .mounted(from: source))))
        }
        return mounted
    }
}
