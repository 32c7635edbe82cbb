import Foundation
import HTTPTransport

extension DockerClient {
    /// `POST /images/{repository}/push?tag=` with the credentials in `X-Registry-Auth`. `onEvent` gets each
    /// progress line (on the transfer's thread). Returns the manifest digest and size the daemon reports.
    /// `tlsVerify: false` is for a registry that speaks plain HTTP (a loopback one): dockerd decides that itself
    /// (127.0.0.0/8 is insecure by default) and ignores the parameter; podman's compat API needs it.
    package func push(
        repository: String, tag: String, auth: RegistryAuth, tlsVerify: Bool = true,
        onEvent: @escaping @Sendable (PushEvent) -> Void = { _ in }
    ) async throws -> PushResult {
        try ImageReference.validateRepository(repository)
        try ImageReference.validateTag(tag)
        let outcome = Locked(PushOutcome())
        let messages = JSONMessageStream { message, raw in
            guard let message else { return }
            let event = PushEvent(message)
            outcome.withValue { $0.absorb(event) }
            onEvent(event)
        }
        var headers = HTTPHeaders()
        headers["X-Registry-Auth"] = auth.headerValue
        let request = makeRequest(
            method: "POST",
            url: try await url(
                "/images/\(URLEncoding.pathComponent(repository))/push", query: [("tag", tag)] + (tlsVerify ? [] : [("tlsVerify", "false")])),
            headers: headers)
        do {
            try await performStreaming(request) { chunk in try messages.feed(chunk) }
        } catch DockerError.apiError(404, _) {
            throw DockerError.imageNotFound("\(repository):\(tag)")
        }
        messages.finish()

        let result = outcome.current
        if let failure = result.failureMessage {
            // The daemon reports a missing local tag inside the stream, not as a 404.
            if failure.hasPrefix("tag does not exist") || failure.hasPrefix("An image does not exist locally") {
                throw DockerError.imageNotFound("\(repository):\(tag)")
            }
            throw DockerError.pushFailed(message: failure)
        }
        if let pushed = result.result { return pushed }
        throw DockerError.unexpectedResponse("the push of \(repository):\(tag) ended without reporting a digest")
    }
}

struct PushOutcome: Sendable {
    var result: PushResult?
    var failureMessage: String?

    mutating func absorb(_ event: PushEvent) {
        if let message = event.errorMessage, failureMessage == nil { failureMessage = message }
        if let pushed = event.result { result = pushed }
        // Before the aux line existed the digest only came as "<tag>: digest: sha256:... size: N".
        if result == nil, case .other(let status) = event.status, let parsed = PushOutcome.parseDigestStatus(status) { result = parsed }
    }

    static func parseDigestStatus(_ status: String) -> PushResult? {
        let words = status.split(separator: " ").map(String.init)
        guard words.count >= 5, words[0].hasSuffix(":"), words[1] == "digest:", words[2].hasPrefix("sha256:"),
            words[3] == "size:", let size = Int64(words[4])
        else { return nil }
        return PushResult(tag: String(words[0].dropLast()), digest: words[2], size: size)
    }
}
