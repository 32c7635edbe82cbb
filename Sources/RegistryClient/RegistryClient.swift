import Foundation
import HTTPTransport

/// Basic-auth login for a registry (ECR's is `AWS:<token password>`). Kept in memory; sent only in the
/// `Authorization` header, which HTTPTransport drops on a redirect to another origin.
package struct RegistryCredentials: Sendable, CustomStringConvertible {
    package var username: String
    package var password: String

    package init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    var headerValue: String { "Basic " + Data("\(username):\(password)".utf8).base64EncodedString() }
    package var description: String { "RegistryCredentials(username: \(username), password: <redacted>)" }
}

/// A blob's bytes for an upload: a file (streamed, never read whole) or a small in-memory blob (the config).
package enum BlobContent: Sendable {
    case file(path: String)
    case bytes([UInt8])
}

/// The OCI distribution API (what `docker push` speaks): blob existence, monolithic streaming uploads and
/// manifests, with basic auth sent to the registry's own origin only, and retries (`RegistryClient+Send.swift`).
package struct RegistryClient: Sendable {
    /// e.g. `https://123456789012.dkr.ecr.us-east-1.amazonaws.com` or `http://127.0.0.1:5000`.
    package let baseURL: String
    package let login: RegistryLoginSource
    package let http: HTTPClient
    /// Retries of each request, and of each blob upload on a fresh session.
    package var retryPolicy = RegistryRetryPolicy()
    /// Told of every retry before its wait, for stderr and `--debug`.
    package var onRetry: (@Sendable (RegistryRetryNotice) -> Void)?
    /// Tokens from the registry's token service, when it has one (shared by copies of this client).
    let bearerTokens = BearerTokens()
    /// Upload sessions opened before their blob was whole (`openUploadSessionAhead`; shared by copies of this client).
    let uploadSessionsAhead = UploadSessionsAhead()
    /// Whether the registry has answered, and whether a request gave up on it before it did (shared by copies).
    let reachability = RegistryReachability()

    /// `refreshLogin` gets a fresh login when the registry refuses the current one mid-push (nil: a 401 is final).
    package init(
        baseURL: String, credentials: RegistryCredentials?, http: HTTPClient = HTTPClient(),
        refreshLogin: (@Sendable () async throws -> RegistryCredentials)? = nil
    ) {
        self.baseURL = RegistryURL.base(for: baseURL)
        self.login = RegistryLoginSource(credentials, refresh: refreshLogin)
        self.http = http
    }

    package var credentials: RegistryCredentials? { login.credentials }

    /// The host[:port] the base URL names, for messages.
    package var registryName: String {
        baseURL.replacingOccurrences(of: "https://", with: "").replacingOccurrences(of: "http://", with: "")
    }

    /// `HEAD /v2/<repo>/blobs/<digest>`: true when the registry already has the blob in this repository.
    package func blobExists(repository: String, digest: String) async throws -> Bool {
        let operation = "checking blob \(digest)"
        let response = try await send("HEAD", "\(baseURL)/v2/\(repository)/blobs/\(digest)", operation: operation)
        switch response.status {
        case 200: return true
        case 404 where response.body.isEmpty: return false  // HEAD answers carry no error body
        default:
            let error = responseError(for: response, operation: operation, repository: repository)
            if case .rejected(_, _, "BLOB_UNKNOWN", _) = error { return false }
            throw error
        }
    }

    /// `HEAD /v2/<repo>/blobs/<digest>`: the blob's size when the registry has it in this repository, else nil.
    package func blobSize(repository: String, digest: String) async throws -> Int64? {
        let operation = "checking blob \(digest)"
        let response = try await send("HEAD", "\(baseURL)/v2/\(repository)/blobs/\(digest)", operation: operation)
        switch response.status {
        case 200:
            guard let size = response.headers["Content-Length"].flatMap({ Int64($0) }) else {
                throw RegistryError.invalidResponse(operation: operation, detail: "the registry named no size (Content-Length) for the blob")
            }
            return size
        case 404 where response.body.isEmpty: return nil
        default:
            let error = responseError(for: response, operation: operation, repository: repository)
            if case .rejected(_, _, "BLOB_UNKNOWN", _) = error { return nil }
            throw error
        }
    }

    /// `PUT /v2/<repo>/manifests/<reference>` with the manifest's media type; returns the digest the registry
    /// reports (`Docker-Content-Digest`), if any.
    @discardableResult
    package func putManifest(repository: String, reference: String, bytes: [UInt8], mediaType: String) async throws -> String? {
        let operation = "putting manifest \(repository):\(reference)"
        let response = try await send(
            "PUT", "\(baseURL)/v2/\(repository)/manifests/\(reference)",
            headers: ["Content-Type": mediaType], body: .bytes(bytes), operation: operation)
        guard response.status == 201 || response.status == 200 || response.status == 202 else {
            var error = responseError(for: response, operation: operation, repository: repository)
            if case .tagInvalid(let repository, _, let message) = error {
                error = .tagInvalid(repository: repository, tag: reference, message: message)
            }
            throw error
        }
        return response.headers["Docker-Content-Digest"]
    }

    /// `HEAD /v2/<repo>/manifests/<reference>`: the digest of what the tag names, nil when there is no such tag.
    package func manifestDigest(repository: String, reference: String, accept: [String]) async throws -> String? {
        let operation = "checking manifest \(repository):\(reference)"
        let response = try await send(
            "HEAD", "\(baseURL)/v2/\(repository)/manifests/\(reference)",
            headers: ["Accept": accept.joined(separator: ", ")], operation: operation)
        switch response.status {
        case 200: return response.headers["Docker-Content-Digest"]
        case 404: return nil
        default:
            throw responseError(
                for: response, operation: operation, repository: repository, needs: RegistryError.manifestReadPermissions)
        }
    }

    // MARK: - Plumbing

    /// The registry's error body (or status) as a `RegistryError`; a 401 to a client that has no login at all is
    /// `loginMissing`, which says where a login comes from, not that one was refused.
    func responseError(
        for response: HTTPResponse, operation: String, repository: String, needs: String = RegistryError.pushPermissions
    ) -> RegistryError {
        let error = Self.error(for: response, operation: operation, repository: repository, registry: registryName, needs: needs)
        if case .unauthorized = error, credentials == nil { return .loginMissing(registry: registryName) }
        return error
    }

    /// The registry's error body (or status) as a `RegistryError`.
    /// `needs`: the ECR permissions the operation takes, said when it is denied.
    static func error(
        for response: HTTPResponse, operation: String, repository: String, registry: String, needs: String = RegistryError.pushPermissions
    ) -> RegistryError {
        let entries = RegistryErrorBody.parse(response.body)
        let first = entries.first
        let message = first?.message ?? ""
        switch first?.code {
        case "UNAUTHORIZED": return .unauthorized(registry: registry, message: message)
        case "DENIED": return .denied(repository: repository, operation: operation, message: message, needs: needs)
        case "NAME_UNKNOWN": return .nameUnknown(repository: repository, registry: registry)
        case "TAG_INVALID": return .tagInvalid(repository: repository, tag: "", message: message)
        case let code?: return .rejected(operation: operation, status: response.status, code: code, message: message)
        case nil:
            switch response.status {
            case 401: return .unauthorized(registry: registry, message: "HTTP 401")
            case 403: return .denied(repository: repository, operation: operation, message: "HTTP 403", needs: needs)
            default:
                return .unexpectedStatus(
                    operation: operation, status: response.status,
                    body: String(decoding: response.body.prefix(300), as: UTF8.self))
            }
        }
    }
}
