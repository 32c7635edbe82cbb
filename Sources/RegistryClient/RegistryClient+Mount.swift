import Foundation
import HTTPTransport

extension RegistryClient {
    /// Cross-repository blob mount: `POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<source>`. True when the
    /// registry linked the blob from `source` (201); false when it would not (it then opens an upload session
    /// instead, 202, which is cancelled here so nothing is left half-open). ECR mounts only where the registry's
    /// blob mounting is enabled; the distribution registry mounts whenever the caller may read `source`.
    package func mountBlob(repository: String, digest: String, from source: String) async throws -> Bool {
        switch try await mountOrOpenSession(repository: repository, digest: digest, from: source) {
        case .mounted:
            return true
        case .refused(let session):
            if let session { _ = try? await send("DELETE", session, operation: "cancelling the upload session of a refused mount") }
            return false
        }
    }

    /// The mount's answer as it is: a refused mount's upload session (202, the distribution spec's fallback) is
    /// left open for the caller to send the blob on, as the spec intends, instead of a `DELETE` and a new `POST`.
    package func mountOrOpenSession(repository: String, digest: String, from source: String) async throws -> MountAnswer {
        let operation = "mounting \(digest) from \(source)"
        var url = RegistryURL.appendingQuery("\(baseURL)/v2/\(repository)/blobs/uploads/", name: "mount", value: digest)
        url = RegistryURL.appendingQuery(url, name: "from", value: source)
        let response = try await send("POST", url, headers: ["Content-Length": "0"], operation: operation)
        switch response.status {
        case 201:
            return .mounted
        case 202:
            return .refused(session: try? Self.location(of: response, requestURL: url, operation: operation))
        default:
            throw responseError(for: response, operation: operation, repository: repository)
        }
    }
}

/// What a cross-repository mount came to.
package enum MountAnswer: Sendable, Equatable {
    case mounted
    /// Not mounted; `session`: the upload session the registry opened instead (its URL), if it named one.
    case refused(session: String?)
}
