import AWSCore
import ECR
import Foundation

/// What `ecrpush tag` did: every requested tag now names `digest`.
package struct TaggedImage: Sendable, Equatable, Codable {
    package var registry: String?
    package var repository: String
    package var digest: String
    package var mediaType: String
    /// Every tag asked for, in order.
    package var tags: [String]
    /// The tags PutImage added (or moved, in a mutable repository).
    package var added: [String]
    /// The tags that already named this digest: nothing was sent for them.
    package var unchanged: [String]
    package var imageUri: String?

    /// One line per tag, then the digest reference, as `push` prints them.
    package var stdoutLines: [String] {
        let prefix = registry.map { "\($0)/\(repository)" } ?? repository
        return tags.map { "\(prefix):\($0)" } + ["\(prefix)@\(digest)"]
    }
}

/// Adds tags to an image already in ECR without moving a byte: the manifest is read with BatchGetImage and
/// put again with PutImage under each new tag (ECR then stores one image with more tags). No registry login,
/// no blob request, no Engine: only the ECR API, so it works where only IAM is allowed, as promotion jobs are.
package struct ImageTagging: Sendable {
    package let ecr: ECRClient

    package init(ecr: ECRClient) {
        self.ecr = ecr
    }

    package func addTags(
        _ tags: [String], to source: ECRImageID, repository: String, registryId: String? = nil, registry: String? = nil,
        onEvent: @Sendable (WorkflowEvent) -> Void = { _ in }
    ) async throws -> TaggedImage {
        for tag in tags { try ECRValidation.validateTag(tag) }
        guard let stored = try await ecr.manifest(of: source, repository: repository, registryId: registryId) else {
            throw ECRPushError.imageNotFound(repository: repository, image: source.description)
        }
        // Tags that already name the image need no request at all (and would only earn an ImageAlreadyExists).
        let present = Set(try await ecr.describeImage(.digest(stored.digest), repository: repository, registryId: registryId)?.imageTags ?? [])
        var added: [String] = []
        var unchanged: [String] = []
        var seen = Set<String>()
        let tags = tags.filter { seen.insert($0).inserted }
        for tag in tags {
            if present.contains(tag) {
                unchanged.append(tag)
                onEvent(.info("\(repository):\(tag) already names \(stored.digest)"))
                continue
            }
            onEvent(.tagging(tag))
            if try await put(stored, tag: tag, repository: repository, registryId: registryId) {
                added.append(tag)
                onEvent(.info("\(repository):\(tag) -> \(stored.digest)"))
            } else {
                unchanged.append(tag)
                onEvent(.info("\(repository):\(tag) already names \(stored.digest)"))
            }
            onEvent(.tagged(tag))
        }
        return TaggedImage(
            registry: registry, repository: repository, digest: stored.digest, mediaType: stored.mediaType, tags: tags, added: added,
            unchanged: unchanged, imageUri: registry.map { "\($0)/\(repository)@\(stored.digest)" })
    }

    /// True when PutImage tagged the image; false when the tag already named it (a race with another tagger).
    private func put(_ stored: StoredManifest, tag: String, repository: String, registryId: String?) async throws -> Bool {
        do {
            _ = try await ecr.putImage(
                repository: repository, manifest: stored.manifest, mediaType: stored.mediaType, tag: tag, digest: stored.digest,
                registryId: registryId)
            return true
        } catch let error as AWSError
            where [ECRErrorCode.imageAlreadyExists, ECRErrorCode.imageTagAlreadyExists].contains(error.code ?? "")
        {
            // ImageAlreadyExists: the tag names this manifest already. ImageTagAlreadyExists (an immutable tag on another
            // image; some emulators say ImageAlreadyExists for that too): which one is told by where the tag points.
            let existing = try await ecr.digest(forTag: tag, repository: repository, registryId: registryId)
            if existing == stored.digest { return false }
            throw ECRPushError.immutableTagTaken(
                repository: repository, tag: tag, digest: existing, awsCode: error.code,
                hint: "Pick another tag, or delete the old image first (aws ecr batch-delete-image) if it must go.")
        }
    }
}
