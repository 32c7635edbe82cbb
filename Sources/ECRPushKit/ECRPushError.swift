import Foundation

/// Failures of the push and login workflows themselves; AWS, Docker and input errors pass through unchanged.
package enum ECRPushError: Error, Sendable, CustomStringConvertible {
    case dockerConfigUnreadable(path: String, detail: String)
    case dockerConfigUnwritable(path: String, detail: String)
    case noAuthorizationData
    case repositoryMissing(repository: String, registry: String)
    case imageTagExists(repository: String, tag: String, detail: String)
    case pushDenied(repository: String, action: String, message: String)
    case invalidArgument(String)
    case internalInconsistency(String)

    package var description: String {
        switch self {
        case .dockerConfigUnreadable(let path, let detail):
            return "cannot read docker config \(path): \(detail). Fix or move the file, or set DOCKER_CONFIG to another directory."
        case .dockerConfigUnwritable(let path, let detail):
            return "cannot write docker config \(path): \(detail)"
        case .noAuthorizationData:
            return "ECR GetAuthorizationToken returned no authorization data"
        case .repositoryMissing(let repository, let registry):
            return
                "repository '\(repository)' does not exist in registry \(registry). Create it (aws ecr create-repository --repository-name "
                + "\(repository)) or pass --create-repository."
        case .imageTagExists(let repository, let tag, let detail):
            return
                "tag '\(tag)' already exists in repository '\(repository)', which has immutable tags, and points at another image: \(detail). Push "
                + "under a new tag."
        case .pushDenied(let repository, let action, let message):
            return
                "pushing to '\(repository)' was denied (\(action)): \(message). The principal needs ecr:\(action) on the repository; a repository "
                + "policy with an explicit Deny for this principal also causes this."
        case .invalidArgument(let detail), .internalInconsistency(let detail):
            return detail
        }
    }
}
