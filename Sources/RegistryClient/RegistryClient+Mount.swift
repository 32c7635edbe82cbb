import Foundation
import HTTPTransport

extension RegistryClient {
    /// Cross-repository blob mount: `POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<source>`. True when the
    /// registry linked the blob from `source` (201); false when it would not (it then opens an upload session
    /// instead, 202, which is cancelled here so nothing is left half-open). ECR mounts only where the registry's
    /// blob mounting is enabled; the distribution registry mounts whenever the caller may read `source`.
    package func mountBlob(repository: String, digest: String, from source: String) async throws -> Bool {
        let operation = "mounting \(digest) from \(source)"
        var url = RegistryURL.appendingQuery("\(baseURL)/v2/\(repository)/blobs/uploads/", name: "mount", value: digest)
        url = RegistryURL.appendingQuery(url, name: "from", value: source)
        let response = try await send("POST", url, headers: ["Content-Length": "0"], operation: operation)
        switch response.status {
        case 201:
            return true
        case 202:
            if let location = try? Self.location(of: response, requestURL: url, operation: operation) {
                _ = try? await send("DELETE", location, operation: "cancelling the upload session of a refused mount")
            }
            return false
        default:
            throw responseError(for: response, operation: operation, repository: repository)
        }
    }
}
