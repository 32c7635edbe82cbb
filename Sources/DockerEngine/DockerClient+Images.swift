import Foundation
import HTTPTransport

extension DockerClient {
    /// `GET /images/{name}/json`; nil when the daemon has no such image.
    package func inspectImage(_ name: String) async throws -> ImageInspect? {
        try DockerClient.requireImageName(name)
        let response = try await call("GET", "/images/\(URLEncoding.pathComponent(name))/json")
        if response.status == 404 { return nil }
        try DockerClient.requireSuccess(response)
        return try DockerClient.decode(ImageInspect.self, from: response.body, what: "inspecting \(name)")
    }

    /// `inspectImage`, with a missing image an error (`imageNotFound`).
    package func requireImage(_ name: String) async throws -> ImageInspect {
        guard let image = try await inspectImage(name) else { throw DockerError.imageNotFound(name) }
        return image
    }

    /// `POST /images/{source}/tag`: gives the image `source` (a name or ID) the name `repository:tag`.
    package func tag(source: String, repository: String, tag: String) async throws {
        try DockerClient.requireImageName(source)
        try ImageReference.validateRepository(repository)
        try ImageReference.validateTag(tag)
        let response = try await call(
            "POST", "/images/\(URLEncoding.pathComponent(source))/tag",
            query: [("repo", repository), ("tag", tag)])
        if response.status == 404 { throw DockerError.imageNotFound(source) }
        try DockerClient.requireSuccess(response)
    }

    /// `DELETE /images/{name}`: removes a tag, or the image once no tag is left. `force` also removes an image
    /// that has several tags or that stopped containers use.
    package func removeImage(_ name: String, force: Bool = false) async throws {
        try DockerClient.requireImageName(name)
        let response = try await call(
            "DELETE", "/images/\(URLEncoding.pathComponent(name))",
            query: force ? [("force", "1")] : [],
            timeout: nil)  // deleting a large image's layers can take a while
        if response.status == 404 { throw DockerError.imageNotFound(name) }
        try DockerClient.requireSuccess(response)
    }

    /// `GET /images/get?names=...`: the images as a `docker save` tar, streamed to `onBody` as it arrives (on the
    /// transfer's thread, in order). A throwing `onBody` stops the export and its error is rethrown.
    package func exportImage(_ names: [String], onBody: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws {
        guard !names.isEmpty else { throw DockerError.invalidReference("", reason: "no image named to export") }
        for name in names { try DockerClient.requireImageName(name) }
        let request = makeRequest(method: "GET", url: try await url("/images/get", query: names.map { ("names", $0) }))
        do {
            try await performStreaming(request, onBody: onBody)
        } catch DockerError.apiError(404, _) {
            throw DockerError.imageNotFound(names.joined(separator: ", "))
        }
    }

    /// Names or IDs the daemon looks up: anything non-empty without whitespace (full validation would reject IDs).
    static func requireImageName(_ name: String) throws {
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw DockerError.invalidReference(name, reason: "an image name or ID may not be empty or contain spaces")
        }
    }
}
