import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A few distribution-API calls for tests to look at (or damage) what a push left in the registry.
extension LoopbackRegistry {
    private func request(
        _ method: String, _ path: String, accept: String? = nil, body: Data? = nil, contentType: String? = nil
    ) async throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: url + path)!)
        request.httpMethod = method
        request.httpBody = body
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        request.setValue("Basic " + Data("\(username):\(password)".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
        if let accept { request.setValue(accept, forHTTPHeaderField: "Accept") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// The manifest at `reference` (Docker v2 or OCI), parsed.
    package func manifest(repository: String, reference: String) async throws -> [String: Any] {
        let (status, data) = try await request(
            "GET", "/v2/\(repository)/manifests/\(reference)",
            accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
        guard status == 200, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw WorldError.commandFailed(
                command: "GET manifest \(repository):\(reference)", status: Int32(status),
                output: String(decoding: data, as: UTF8.self))
        }
        return object
    }

    /// `HEAD /v2/<repo>/manifests/<reference>`: 200 when the tag (or digest) names a manifest, 404 when not.
    package func manifestStatus(repository: String, reference: String) async throws -> Int {
        try await request(
            "HEAD", "/v2/\(repository)/manifests/\(reference)",
            accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
        ).0
    }

    /// `DELETE /v2/<repo>/blobs/<digest>`: the status (202 when the repository's link to the blob is gone).
    package func deleteBlob(repository: String, digest: String) async throws -> Int {
        try await request("DELETE", "/v2/\(repository)/blobs/\(digest)").0
    }

    /// The blob's bytes.
    package func blob(repository: String, digest: String) async throws -> Data {
        let (status, data) = try await request("GET", "/v2/\(repository)/blobs/\(digest)")
        guard status == 200 else {
            throw WorldError.commandFailed(command: "GET blob \(digest)", status: Int32(status), output: "")
        }
        return data
    }

    /// `HEAD /v2/<repo>/blobs/<digest>`: 200 when the repository has the blob, 404 when not.
    package func blobStatus(repository: String, digest: String) async throws -> Int {
        try await request("HEAD", "/v2/\(repository)/blobs/\(digest)").0
    }

    /// The manifest's bytes as stored (their sha256 is its digest), in any of the four manifest media types.
    package func manifestBytes(repository: String, reference: String) async throws -> Data {
        let (status, data) = try await request(
            "GET", "/v2/\(repository)/manifests/\(reference)",
            accept: [
                "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.index.v1+json"
            ].joined(separator: ", "))
        guard status == 200 else {
            throw WorldError.commandFailed(command: "GET manifest \(repository):\(reference)", status: Int32(status), output: "")
        }
        return data
    }

    /// `PUT /v2/<repo>/manifests/<reference>` of `bytes` as `mediaType` (e.g. a manifest list made by a test).
    package func putManifest(repository: String, reference: String, bytes: Data, mediaType: String) async throws {
        let (status, data) = try await request(
            "PUT", "/v2/\(repository)/manifests/\(reference)", body: bytes, contentType: mediaType)
        guard status == 201 else {
            throw WorldError.commandFailed(
                command: "PUT manifest \(repository):\(reference)", status: Int32(status), output: String(decoding: data, as: UTF8.self))
        }
    }
}
