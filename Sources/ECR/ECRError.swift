/// Input ECR would reject, caught before any request, and tokens that do not decode.
/// Service errors arrive as `AWSCore.AWSError` (see `ECRErrorCode` for the codes worth naming).
package enum ECRError: Error, Sendable, CustomStringConvertible {
    case invalidRepositoryName(String)
    case invalidRegistryId(String)
    case invalidImageTag(String)
    case invalidImageDigest(String)
    /// BatchGetImage answered with a failure other than "not found" for the image (`code` is ECR's failureCode).
    case imageUnavailable(repository: String, image: String, code: String, reason: String)
    case malformedAuthorizationToken(detail: String)
    /// ECR Public's GetAuthorizationToken was refused (AccessDeniedException); `message` is AWS's own.
    case publicLoginDenied(message: String)
    /// A part of a layer could not be read from its download URL (GetDownloadUrlForLayer's; `url` without its query).
    case layerReadFailed(digest: String, range: ClosedRange<Int64>, url: String, status: Int?, detail: String)

    package var description: String {
        switch self {
        case .invalidRepositoryName(let name):
            return
                "'\(name)' is not a valid ECR repository name: 2 to 256 characters, lowercase letters, digits and . _ - separators, optionally "
                + "namespaced with '/' (e.g. team/app)"
        case .invalidRegistryId(let id):
            return "'\(id)' is not a registry id: expected a 12-digit AWS account id"
        case .invalidImageTag(let tag):
            return "'\(tag)' is not a valid image tag: up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'"
        case .invalidImageDigest(let digest):
            return "'\(digest)' is not an image digest: expected sha256: and 64 lowercase hex digits"
        case .imageUnavailable(let repository, let image, let code, let reason):
            let said = reason.isEmpty ? "" : ": \(reason)"
            return "ECR could not return \(repository)\(image) (\(code)\(said))"
        case .malformedAuthorizationToken(let detail):
            return "ECR returned an authorization token that does not decode to AWS:<password> (\(detail))"
        case .publicLoginDenied(let message):
            let said = message.isEmpty ? "" : ": \(message)"
            return
                "ECR Public refused the login to public.ecr.aws (AccessDeniedException\(said)). Logging in to ECR Public needs both "
                + "ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken on \"*\": grant them to the principal in an IAM policy "
                + "(pulling public images needs no login at all)."
        case .layerReadFailed(let digest, let range, let url, let status, let detail):
            let answered = status.map { " (HTTP \($0))" } ?? ""
            return
                "Reading bytes \(range.lowerBound)-\(range.upperBound) of layer \(digest) from its ECR download URL \(url) failed\(answered): \(detail)"
        }
    }
}

/// ECR's error codes that ecrpush treats specially.
package enum ECRErrorCode {
    package static let repositoryNotFound = "RepositoryNotFoundException"
    package static let repositoryAlreadyExists = "RepositoryAlreadyExistsException"
    package static let imageTagAlreadyExists = "ImageTagAlreadyExistsException"
    package static let imageAlreadyExists = "ImageAlreadyExistsException"
    package static let layerAlreadyExists = "LayerAlreadyExistsException"
    package static let invalidLayerPart = "InvalidLayerPartException"
    package static let layersNotFound = "LayersNotFoundException"
    package static let imageDigestDoesNotMatch = "ImageDigestDoesNotMatchException"
    package static let uploadNotFound = "UploadNotFoundException"
    package static let invalidLayer = "InvalidLayerException"
    package static let imageNotFound = "ImageNotFoundException"
    package static let scanNotFound = "ScanNotFoundException"
    package static let limitExceeded = "LimitExceededException"
    package static let unsupportedImageType = "UnsupportedImageTypeException"
    package static let validation = "ValidationException"
}
