import Foundation
import HTTPTransport

/// A manifest as a registry serves it: its bytes (their sha256 is its digest) and media type.
package struct FetchedManifest: Sendable {
    package var bytes: [UInt8]
    package var mediaType: String

    package init(bytes: [UInt8], mediaType: String) {
        self.bytes = bytes
        self.mediaType = mediaType
    }
}

extension RegistryClient {
    /// Media types a pushed image's manifest may have: single-platform manifests and multi-platform indexes.
    package static let manifestMediaTypes = [
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.index.v1+json"
    ]

    /// `GET /v2/<repo>/manifests/<reference>`; nil when there is no such manifest.
    package func manifest(repository: String, reference: String) async throws -> FetchedManifest? {
        let operation = "reading manifest \(repository)@\(reference)"
        let response = try await send(
            "GET", "\(baseURL)/v2/\(repository)/manifests/\(reference)",
            headers: ["Accept": Self.manifestMediaTypes.joined(separator: ", ")], operation: operation)
        switch response.status {
        case 200:
            return FetchedManifest(bytes: response.body, mediaType: response.headers["Content-Type"] ?? "")
        case 404:
            return nil
        default:
            throw Self.error(
                for: response, operation: operation, repository: repository, registry: registryName, needs: RegistryError.manifestReadPermissions)
        }
    }
}
