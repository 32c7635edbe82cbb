import AWSCore
import ECR
import Foundation

/// Before anything is built or read: an immutable tag that already names an image can never name this one, so
/// `build-and-push` fails in seconds instead of after its build, and `push` before reading the image. With
/// `--skip-existing`, tags that all name one image already make the run a success without building (CI reruns).
package struct ImmutableTagCheck: Sendable {
    package let ecr: ECRClient

    /// The image `push` is about to send, known before the push: a re-push of the image a tag already names is fine.
    package struct LocalImage: Sendable {
        /// The Engine's image id: the sha256 of the config blob that any push of it puts in the registry.
        package var id: String
        package var repoDigests: [String]

        package init(id: String, repoDigests: [String]) {
            self.id = id
            self.repoDigests = repoDigests
        }
    }

    package enum Outcome: Sendable, Equatable {
        case proceed
        /// `--skip-existing`: every tag already names this image.
        case alreadyThere(PushedImage)
    }

    package init(ecr: ECRClient) {
        self.ecr = ecr
    }

    package func check(
        _ destination: PushDestination, repository: Repository, registry: String, skipExisting: Bool, localImage: LocalImage? = nil,
        onEvent: @Sendable (WorkflowEvent) -> Void = { _ in }
    ) async throws -> Outcome {
        let immutable = destination.tags.filter { repository.isTagImmutable($0) }
        guard !immutable.isEmpty else { return .proceed }
        // With --skip-existing every tag matters (a mutable one must name the image too); else only immutable ones.
        // BatchGetImage rather than DescribeImages: the push policies grant it (the registry transport reads manifests).
        var held: [(tag: String, digest: String)] = []
        var manifests: [String: StoredManifest] = [:]
        do {
            for tag in skipExisting ? destination.tags : immutable {
                if let stored = try await ecr.manifest(of: .tag(tag), repository: destination.repository, registryId: destination.registryId) {
                    held.append((tag, stored.digest))
                    manifests[stored.digest] = stored
                }
            }
        } catch let error as AWSError where error.code == "AccessDeniedException" {
            // A policy with only the upload actions (ecr-api): ECR still refuses the tag at PutImage, only later.
            onEvent(.info("warning: cannot check the immutable tags before building (\(error)); ECR will refuse a taken tag at the push"))
            return .proceed
        }
        let heldImmutable = held.filter { immutable.contains($0.tag) }
        guard !heldImmutable.isEmpty else { return .proceed }

        // `push` knows its image: a tag that names another one is a conflict, --skip-existing or not (accepting it
        // would report an image that is not the one asked for). `build-and-push` cannot know before building.
        var conflicts = heldImmutable
        if let localImage {
            conflicts = heldImmutable.filter { entry in
                !holds(localImage, manifests[entry.digest], digest: entry.digest, destination: destination, registry: registry)
            }
        }
        let digests = Set(held.map(\.digest))
        if skipExisting, conflicts.isEmpty || localImage == nil, held.count == destination.tags.count, digests.count == 1,
            let digest = digests.first
        {
            return .alreadyThere(PushedImage(registry: registry, repository: destination.repository, tags: destination.tags, digest: digest))
        }
        guard let first = conflicts.first else { return .proceed }
        throw ECRPushError.immutableTagTaken(
            repository: destination.repository, tag: first.tag, digest: first.digest, awsCode: nil,
            hint: hint(skipExisting: skipExisting, held: held, destination: destination, building: localImage == nil))
    }

    /// Whether the image at `digest` is `local`: the Engine pushed or pulled it there, or its manifest's config is
    /// the local image's config (any push of an image carries its config blob unchanged).
    private func holds(_ local: LocalImage, _ stored: StoredManifest?, digest: String, destination: PushDestination, registry: String) -> Bool {
        if local.repoDigests.contains(RepositoryLocation(registry: registry, repository: destination.repository).pinned(digest)) { return true }
        guard
            let stored,
            let object = try? JSONSerialization.jsonObject(with: Data(stored.manifest.utf8)) as? [String: Any],
            let config = object["config"] as? [String: Any], let configDigest = config["digest"] as? String
        else { return false }
        return configDigest == local.id
    }

    private func hint(skipExisting: Bool, held: [(tag: String, digest: String)], destination: PushDestination, building: Bool) -> String {
        let action = building ? "Nothing was built" : "Nothing was pushed"
        guard skipExisting else {
            return "\(action). Use a new tag, or pass --skip-existing to accept the image already there as this run's result "
                + "(idempotent CI reruns)."
        }
        if !building {
            return "\(action): --skip-existing accepts the image that is there only when it is the one being pushed."
        }
        let missing = destination.tags.filter { tag in !held.contains { $0.tag == tag } }
        if !missing.isEmpty {
            return "\(action): --skip-existing succeeds only when every tag already names one image, and "
                + missing.map { "'\($0)'" }.joined(separator: ", ") + " does not exist yet. Add it to the image with "
                + "`ecrpush tag \(destination.repository):\(held[0].tag) \(missing.joined(separator: " "))`, or drop it."
        }
        return "\(action): --skip-existing succeeds only when every tag names the same image, and these name "
            + held.map { "\($0.tag) -> \($0.digest)" }.joined(separator: ", ") + "."
    }
}
