import DockerEngine

/// The Engine's tags for `push`, made while the login is under way when the registry host is known before the
/// push needs them (`--registry`, or a login that answered before the repository look-up). The Engine takes 4-5 ms
/// to tag (it writes its reference store), and an everyday push waits for nothing else then.
///
/// The Engine ends as it would have without them: tags made here are removed again unless the Engine's push went
/// ahead (a failed login or repository check, an image already there, a push through ecrpush's own transport).
/// Only for an image that keeps another tag, so that removing one of these never deletes the image.
struct EngineTagsAhead: Sendable {
    private let docker: DockerClient
    private let tagging: Task<[String], Never>

    /// nil when there is nothing to tag ahead: every reference exists, or the image has no tag of its own.
    static func start(docker: DockerClient, image: ImageInspect, location: RepositoryLocation, tags: [String]) -> EngineTagsAhead? {
        let missing = tags.filter { !image.repoTags.contains(location.tagged($0)) }
        let references = Set(missing.map { location.tagged($0) })
        guard !missing.isEmpty, image.repoTags.contains(where: { !references.contains($0) }) else { return nil }
        // By ID: the very image inspected, whatever its name meanwhile names.
        let tagging = Task {
            var made: [String] = []
            for tag in missing {
                // A failure here is not reported: the push tags again before pushing, and says why there.
                guard (try? await docker.tag(source: image.id, repository: location.description, tag: tag)) != nil else { break }
                made.append(location.tagged(tag))
            }
            return made
        }
        return EngineTagsAhead(docker: docker, tagging: tagging)
    }

    /// `image` with the references made here among its tags (waits for the tagging to end).
    func applied(to image: ImageInspect) async -> ImageInspect {
        var image = image
        for reference in await tagging.value where !image.repoTags.contains(reference) { image.repoTags.append(reference) }
        return image
    }

    /// Removes the references made here, on a task of its own: a cancelled push (Ctrl-C) cleans up all the same.
    func undo() async {
        let (docker, tagging) = (docker, tagging)
        await Task {
            for reference in await tagging.value { try? await docker.removeImage(reference) }
        }.value
    }
}
