import DockerEngine

/// The closest ancestor of an image that came from (or went to) a registry: a local image with a `RepoDigests`
/// entry whose layers (diffIDs) are the image's first layers. Classic and BuildKit builds alike keep the base's
/// layers as the image's first ones, so this finds the base a CI runner pulled, whatever built the image.
package struct RegistryAncestor: Sendable, Equatable {
    package var imageID: String
    /// `host[:port]/repository@sha256:…`.
    package var reference: String
    /// `host[:port]`.
    package var registry: String { location.registry }
    /// Where it came from, and its manifest's digest there (`reference` taken apart).
    package var location: RepositoryLocation
    package var digest: String
    /// The layers it shares with the image (the image's first `layerCount`).
    package var layerCount: Int
    /// Bytes of those layers, uncompressed (the ancestor image's size).
    package var size: Int64

    /// nil when `reference` is not `host[:port]/repository@sha256:…`.
    package init?(imageID: String, reference: String, layerCount: Int, size: Int64) {
        guard let location = RepositoryLocation(pinned: reference), let digest = reference.split(separator: "@").last.map(String.init)
        else { return nil }
        (self.imageID, self.reference, self.location, self.digest) = (imageID, reference, location, digest)
        (self.layerCount, self.size) = (layerCount, size)
    }

    /// The local images that came from a registry (a `RepoDigests` entry), each inspected: what an ancestor is chosen
    /// among. Only the Engine is asked, so a push gathers them while its registry login is still being made.
    package struct Candidates: Sendable {
        var images: [(summary: ImageSummary, inspected: ImageInspect)]
    }

    /// At most `limit` candidates are inspected (a CI runner has a handful of images; a laptop may have hundreds).
    /// With `image` (a name or id), only the images whose size is that of the image's first layers together are,
    /// when there are any: an ancestor can have no other size. So a laptop's hundreds of pushed images neither
    /// hide the base nor cost an inspection each.
    package static func gather(docker: DockerClient, for image: String? = nil, limit: Int = 64) async throws -> Candidates {
        async let pendingSizes = ancestorSizes(of: image, docker: docker)
        let withDigests = try await docker.listImages().filter { !$0.repoDigests.isEmpty }
        var summaries = Array(withDigests.prefix(limit))
        if let sizes = await pendingSizes {
            let sized = withDigests.filter { $0.size.map(sizes.contains) ?? false }
            if !sized.isEmpty { summaries = Array(sized.prefix(limit)) }
        }
        let inspections = try await inspectAll(summaries.map(\.id), docker: docker)
        return Candidates(images: zip(summaries, inspections).compactMap { summary, inspected in inspected.map { (summary, $0) } })
    }

    /// The sizes an ancestor of `image` can have: those of its first one, two, … layers together (from its
    /// history, whose steps name each layer's size). nil without an image, or when the Engine does not say.
    static func ancestorSizes(of image: String?, docker: DockerClient) async -> Set<Int64>? {
        guard let image, let history = try? await docker.imageHistory(image) else { return nil }
        var (total, sizes): (Int64, Set<Int64>) = (0, [])
        for step in history.reversed() where step.size > 0 {
            total += step.size
            sizes.insert(total)
        }
        return sizes.isEmpty ? nil : sizes
    }

    /// The ancestor sharing the most layers with `image` among the local images that have a registry digest,
    /// preferring one in `preferredRegistry` when several share as many. nil when none shares a layer.
    package static func find(
        for image: ImageInspect, docker: DockerClient, preferredRegistry: String? = nil, limit: Int = 64
    ) async throws -> RegistryAncestor? {
        guard !image.rootFS.layers.isEmpty else { return nil }
        return choose(for: image, among: try await gather(docker: docker, for: image.id, limit: limit), preferredRegistry: preferredRegistry)
    }

    /// `find`'s choice among candidates gathered before.
    package static func choose(for image: ImageInspect, among candidates: Candidates, preferredRegistry: String? = nil) -> RegistryAncestor? {
        let layers = image.rootFS.layers
        guard !layers.isEmpty else { return nil }
        var best: RegistryAncestor?
        for (candidate, inspected) in candidates.images {
            let shared = inspected.rootFS.layers
            guard !shared.isEmpty, shared.count <= layers.count, Array(layers.prefix(shared.count)) == shared else { continue }
            let reference =
                candidate.repoDigests.first { DockerClient.registryHost(ofReference: $0) == preferredRegistry }
                ?? candidate.repoDigests[0]
            guard
                let found = RegistryAncestor(
                    imageID: candidate.id, reference: DockerClient.canonicalReference(reference), layerCount: shared.count, size: inspected.size)
            else { continue }
            if let current = best {
                let better =
                    found.layerCount > current.layerCount
                    || (found.layerCount == current.layerCount && found.registry == preferredRegistry && current.registry != preferredRegistry)
                if !better { continue }
            }
            best = found
        }
        return best
    }

    /// Each image inspected (nil: gone meanwhile), in `ids`' order, a few at a time: on an everyday push this
    /// look-up is on the critical path, and each inspect is a round trip to the Engine.
    private static func inspectAll(_ ids: [String], docker: DockerClient, width: Int = 8) async throws -> [ImageInspect?] {
        try await withThrowingTaskGroup(of: (Int, ImageInspect?).self) { group in
            var results = [ImageInspect?](repeating: nil, count: ids.count)
            var next = 0
            func startNext() {
                guard next < ids.count else { return }
                let (index, id) = (next, ids[next])
                next += 1
                group.addTask { (index, try await docker.inspectImage(id)) }
            }
            for _ in 0..<min(width, ids.count) { startNext() }
            while let (index, inspected) = try await group.next() {
                results[index] = inspected
                startNext()
            }
            return results
        }
    }

    /// How many distinct diffIDs the shared layers are (a base may repeat an empty layer).
    func layerCountDistinct(in image: ImageInspect) -> Int {
        Set(image.rootFS.layers.prefix(layerCount)).count
    }
}
