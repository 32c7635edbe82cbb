import Foundation

/// What went wrong talking to a registry over the OCI distribution API. Descriptions never carry the password
/// or the Authorization header.
package enum RegistryError: Error, Sendable, CustomStringConvertible, Equatable {
    /// 401 / UNAUTHORIZED: the login was refused (expired token, wrong password, wrong registry).
    case unauthorized(registry: String, message: String)
    /// 401 to a request that carried no login, because ecrpush has none for this registry (not an ECR host, and
    /// nothing in the docker config or ecrpush's config file names it).
    case loginMissing(registry: String)
    /// 403 / DENIED: authenticated, but not allowed to do this to the repository. `needs`: the permissions that
    /// operation takes on ECR, for the description (pushing by default; reading a manifest takes others).
    case denied(repository: String, operation: String, message: String, needs: String = RegistryError.pushPermissions)
    /// NAME_UNKNOWN: the repository does not exist in this registry.
    case nameUnknown(repository: String, registry: String)
    /// TAG_INVALID: ECR's answer when an immutable tag already names another image.
    case tagInvalid(repository: String, tag: String, message: String)
    /// Any other error code the registry sent (BLOB_UNKNOWN, MANIFEST_INVALID, DIGEST_INVALID, ...).
    case rejected(operation: String, status: Int, code: String, message: String)
    /// A status the API does not define for this call, without a registry error body.
    case unexpectedStatus(operation: String, status: Int, body: String)
    /// A response that breaks the protocol (e.g. an upload session without a Location).
    case invalidResponse(operation: String, detail: String)
    /// The registry could not be reached, or the transfer broke off.
    case transport(operation: String, detail: String)
    /// A URL the registry sent ecrpush to (an upload `Location`, a redirect) is on another origin and asked for
    /// credentials, which ecrpush sends only to the registry itself.
    case credentialsAskedElsewhere(operation: String, origin: String, registry: String)
    case invalidArgument(String)

    /// What a push takes on an ECR repository.
    package static let pushPermissions =
        "the ECR push permissions (ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload, ecr:PutImage, "
        + "ecr:BatchCheckLayerAvailability)"
    /// What reading a manifest takes on an ECR repository (a base image's, to reuse its layers).
    package static let manifestReadPermissions = "ecr:BatchGetImage (and ecr:GetDownloadUrlForLayer to read its layers)"

    package var description: String {
        switch self {
        case .unauthorized(let registry, let message):
            return
                "the registry \(registry) refused the login (\(message)). The ECR token may have expired or belong to another registry: run the "
                + "push again, or check --registry and --registry-id."
        case .loginMissing(let registry):
            return
                "the registry \(registry) asks for a login, and ecrpush has none for it: its name is not an ECR registry's, and neither the "
                + "docker config (`auths`, `credHelpers`, `credsStore`) nor a [registry …] section of ecrpush's config file names it. Log in "
                + "with `docker login \(registry)`; for an ECR registry under another name (a custom domain, a private endpoint), name it in "
                + "a [registry …] section."
        case .denied(let repository, let operation, let message, let needs):
            return "the registry denied \(operation) on repository '\(repository)': \(message). The principal needs \(needs) on it."
        case .nameUnknown(let repository, let registry):
            return "repository '\(repository)' does not exist in registry \(registry). Create it or pass --create-repository."
        case .tagInvalid(let repository, let tag, let message):
            return "the registry refused tag '\(tag)' in repository '\(repository)': \(message)"
        case .rejected(let operation, let status, let code, let message):
            return "the registry refused \(operation) (HTTP \(status), \(code)): \(message)"
        case .unexpectedStatus(let operation, let status, let body):
            let excerpt = body.isEmpty ? "" : ": \(body.prefix(300))"
            return "the registry answered \(operation) with HTTP \(status)\(excerpt)"
        case .invalidResponse(let operation, let detail):
            return "the registry's answer to \(operation) makes no sense: \(detail)"
        case .transport(let operation, let detail):
            return "\(operation) failed: \(detail)"
        case .credentialsAskedElsewhere(let operation, let origin, let registry):
            return
                "\(operation) failed: the registry \(registry) sent the request to \(origin), which asked for credentials (HTTP 401). "
                + "ecrpush sends the registry's login only to the registry itself; the registry's upload or storage URL must be on its own "
                + "host or carry its own authorization (a presigned URL)."
        case .invalidArgument(let detail):
            return detail
        }
    }

    /// Worth a fresh upload session: the network broke, the registry had a transient failure, or it lost
    /// the upload session.
    package var isRetryable: Bool {
        switch self {
        case .transport: return true
        case .unexpectedStatus(_, let status, _): return RegistryRetryPolicy.retryableStatuses.contains(status)
        case .rejected(_, let status, let code, _):
            return RegistryRetryPolicy.retryableStatuses.contains(status) || RegistryRetryPolicy.retryableCodes.contains(code)
                || ["BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID"].contains(code)
        default: return false
        }
    }

    /// The registry does not know the upload session (it expired, or was purged).
    var isUnknownUploadSession: Bool {
        switch self {
        case .rejected(_, _, "BLOB_UPLOAD_UNKNOWN", _): return true
        case .unexpectedStatus(_, 404, _): return true
        default: return false
        }
    }

    /// The connection failed, broke or stalled: the request never got an answer.
    var isTransportFailure: Bool {
        if case .transport = self { return true }
        return false
    }

    var transportDetail: String {
        if case .transport(_, let detail) = self { return detail }
        return description
    }
}

/// `{"errors":[{"code":"...","message":"...","detail":...}]}`, the distribution API's error body.
struct RegistryErrorBody: Decodable {
    struct Entry: Decodable {
        var code: String
        var message: String?
    }
    var errors: [Entry]

    static func parse(_ body: [UInt8]) -> [Entry] {
        (try? JSONDecoder().decode(RegistryErrorBody.self, from: Data(body)))?.errors ?? []
    }
}
