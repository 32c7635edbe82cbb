import Foundation

/// Failures of registry logins, their caches and the files they write; AWS and input errors pass through unchanged.
package enum ECRLoginError: Error, Sendable, CustomStringConvertible {
    case dockerConfigUnreadable(path: String, detail: String)
    case dockerConfigUnwritable(path: String, detail: String)
    case noAuthorizationData
    case invalidArgument(String)
    /// `$GITHUB_OUTPUT` could not be appended to.
    case gitHubOutputUnwritable(path: String, detail: String)

    package var description: String {
        switch self {
        case .dockerConfigUnreadable(let path, let detail):
            return "cannot read docker config \(path): \(detail). Fix or move the file, or set DOCKER_CONFIG to another directory."
        case .dockerConfigUnwritable(let path, let detail):
            return "cannot write docker config \(path): \(detail)"
        case .noAuthorizationData:
            return "ECR GetAuthorizationToken returned no authorization data"
        case .invalidArgument(let detail):
            return detail
        case .gitHubOutputUnwritable(let path, let detail):
            return
                "cannot append to the GITHUB_OUTPUT file \(path): \(detail). GitHub Actions sets GITHUB_OUTPUT to a writable file in every step; "
                + "elsewhere, point it at a file in a directory that exists, or unset it."
        }
    }
}
