import DockerEngine
import Foundation
import Hashing
import ImageExport
import RegistryClient

/// `ecrpush copy`: an image from one registry to another (or to another repository of the same one) over the
/// distribution API, without the Engine. Every blob is streamed from the source into the destination
/// (`RegistryClient.copyBlob`: never whole in memory, its digest kept and checked), skipped when the destination
/// has it, mounted when both repositories are in the same registry. Manifests are put byte for byte, so every
/// digest is preserved: a manifest list or OCI index is copied whole (each platform's manifest by digest, then the
/// index), or only the manifest of `platform`.
package struct ImageCopy: Sendable {
    package struct Side: Sendable {
        package var client: RegistryClient
        package var repository: String

        package init(client: RegistryClient, repository: String) {
            self.client = client
            self.repository = repository
        }

        var location: RepositoryLocation { RepositoryLocation(registry: client.registryName, repository: repository) }
    }

    package var source: Side
    package var destination: Side
    /// `os/architecture[/variant]`: copy only this platform's manifest of an index (nil: the whole index).
    package var platform: String?
    /// Blobs copied at the same time.
    package var jobs = 4
    /// Whether each tag's digest is said once put (`ecrpush copy`); a fan-out says its one digest itself.
    package var saysDigests = true

    package init(source: Side, destination: Side, platform: String? = nil) {
        self.source = source
        self.destination = destination
        self.platform = platform
    }

    /// Copies what `reference` (a tag or `sha256:` digest) names at the source and puts it under `tags` at the
    /// destination (by digest only when `tags` is empty).
    package func copy(_ reference: String, tags: [String], onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async throws -> PushedImage {
        var top = try await manifest(reference)
        if top.isIndex, let platform {
            let entry = try Self.entry(for: platform, in: top, of: source.location.tagged(reference))
            top = try await manifest(entry.digest)
        }
        if top.isIndex {
            for child in top.document.manifests ?? [] {
                let manifest = try await manifest(child.digest)
                guard !manifest.isIndex else {
                    throw ECRPushError.invalidArgument("\(source.location.pinned(child.digest)) is an index inside an index: not copied")
                }
                try await copyBlobs(of: manifest, onEvent: onEvent)
                try await put(manifest, reference: manifest.digest)
                onEvent(.info("\(Self.platformName(child.platform)): \(manifest.digest) copied"))
            }
        } else {
            try await copyBlobs(of: top, onEvent: onEvent)
        }
        if tags.isEmpty {
            try await put(top, reference: top.digest)
        }
        for tag in tags {
            onEvent(.tagging(tag))
            try await put(top, reference: tag)
            onEvent(.tagged(tag))
            if saysDigests { onEvent(.info("\(tag): digest: \(top.digest) size: \(top.bytes.count)")) }
        }
        return PushedImage(registry: destination.client.registryName, repository: destination.repository, tags: tags, digest: top.digest)
    }

    // MARK: - Manifests

    struct Manifest: Sendable {
        var bytes: [UInt8]
        var mediaType: String
        var digest: String
        var document: ManifestDocument
        var isIndex: Bool { document.manifests != nil }
    }

    struct ManifestDocument: Decodable, Sendable {
        struct Descriptor: Decodable, Sendable {
            struct Platform: Decodable, Sendable {
                var os: String?
                var architecture: String?
                var variant: String?
            }
            var mediaType: String?
            var digest: String
            var size: Int64
            var platform: Platform?
        }
        var schemaVersion: Int?
        var mediaType: String?
        var config: Descriptor?
        var layers: [Descriptor]?
        var manifests: [Descriptor]?
    }

    /// The source's manifest, checked against the digest when asked by digest.
    private func manifest(_ reference: String) async throws -> Manifest {
        guard let fetched = try await source.client.manifest(repository: source.repository, reference: reference) else {
            throw ECRPushError.invalidArgument("\(source.location)\(reference.hasPrefix("sha256:") ? "@" : ":")\(reference) does not exist")
        }
        let digest = fetched.bytes.withUnsafeBytes { SHA256.hash($0) }.ociDigest
        if reference.hasPrefix("sha256:"), digest != reference {
            throw ECRPushError.invalidArgument("\(source.location.pinned(reference)) answered with a manifest whose digest is \(digest)")
        }
        let document: ManifestDocument
        do { document = try JSONDecoder().decode(ManifestDocument.self, from: Data(fetched.bytes)) } catch {
            throw ECRPushError.invalidArgument("\(source.location.pinned(digest)) is not an image manifest or index: \(error)")
        }
        guard document.schemaVersion == 2 else {
            throw ECRPushError.invalidArgument(
                "\(source.location.pinned(digest)) is a schema \(document.schemaVersion ?? 0) manifest: only schema 2 and OCI are copied")
        }
        let mediaType = fetched.mediaType.isEmpty ? (document.mediaType ?? "application/vnd.oci.image.manifest.v1+json") : fetched.mediaType
        return Manifest(bytes: fetched.bytes, mediaType: mediaType, digest: digest, document: document)
    }

    private func put(_ manifest: Manifest, reference: String) async throws {
        try await RegistryBlobStore.mapped(action: "PutImage", repository: destination.repository, registry: destination.client.registryName) {
            try await destination.client.putManifest(
                repository: destination.repository, reference: reference, bytes: manifest.bytes, mediaType: manifest.mediaType)
        }
    }

    static func entry(for platform: String, in index: Manifest, of name: String) throws -> ManifestDocument.Descriptor {
        guard let wanted = ImagePlatform(parsing: platform) else {
            throw ECRPushError.invalidArgument("--platform \(platform): give os/arch[/variant], e.g. linux/arm64")
        }
        let entries = index.document.manifests ?? []
        // As containerd matches: aliases (aarch64 is arm64), and the variant only when one is asked for.
        let found = entries.first { entry in
            guard let candidate = entry.platform, let os = candidate.os, let architecture = candidate.architecture else { return false }
            return ImagePlatform(os: os, architecture: architecture, variant: candidate.variant).satisfies(wanted)
        }
        guard let found else {
            let available = entries.map { platformName($0.platform) }.joined(separator: ", ")
            throw ECRPushError.invalidArgument("\(name) has no \(platform) image (it has: \(available))")
        }
        return found
    }

    static func platformName(_ platform: ManifestDocument.Descriptor.Platform?) -> String {
        guard let platform else { return "unknown" }
        return [platform.os ?? "?", platform.architecture ?? "?", platform.variant].compactMap { $0 }.joined(separator: "/")
    }

    // MARK: - Blobs

    /// The config and layers of one manifest: skipped when present, mounted within a registry, else streamed.
    private func copyBlobs(of manifest: Manifest, onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async throws {
        var descriptors: [ManifestDocument.Descriptor] = []
        var seen = Set<String>()
        for descriptor in [manifest.document.config].compactMap({ $0 }) + (manifest.document.layers ?? [])
        where seen.insert(descriptor.digest).inserted {
            descriptors.append(descriptor)
        }
        let bySize = Dictionary(descriptors.map { ($0.digest, $0.size) }, uniquingKeysWith: { first, _ in first })
        let store = RegistryBlobStore(client: destination.client, repository: destination.repository, registryName: destination.client.registryName)
        let present = try await store.existing(descriptors.map(\.digest))
        let sameRegistry = RegistryClient.origin(of: source.client.baseURL) == RegistryClient.origin(of: destination.client.baseURL)
        let missing = descriptors.map(\.digest).filter { !present.contains($0) }
        for digest in descriptors.map(\.digest) where present.contains(digest) {
            let size = bySize[digest] ?? 0
            onEvent(.push(PushEvent(id: PreparedBlob.shortID(digest), status: .alreadyExists, progress: ProgressDetail(current: size, total: size))))
        }
        let (source, place) = (self.source, self.source.location.description)
        _ = try await RememberedImage.digests(missing, jobs: jobs) { digest in
            let id = PreparedBlob.shortID(digest)
            let size = bySize[digest] ?? 0
            // A refused mount (ECR without blob mounting) leaves an upload session open, which takes the copy.
            var session: String?
            if sameRegistry {
                switch try await store.mountKeepingSession(digest, from: source.repository) {
                case .mounted:
                    onEvent(.push(PushEvent(id: id, status: .mounted(from: source.repository))))
                    return true
                case .refused(let opened): session = opened
                }
            }
            let throttle = ProgressThrottle(total: size)
            let layer = KnownLayer(digest: digest, size: size, mediaType: "")
            _ = try await store.copy(layer, from: source.client, repository: source.repository, session: session) { done in
                guard throttle.shouldReport(done) else { return }
                onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: done, total: size))))
            }
            onEvent(.push(PushEvent(id: id, status: .copied(from: place), progress: ProgressDetail(current: size, total: size))))
            return true
        }
    }
}
