import AWSCore
import ECR
import Foundation

/// A docker login for an ECR registry, as `ecrpush login` reports it.
package struct RegistryLogin: Sendable, Equatable, Codable {
    package var username: String
    package var password: String
    package var registry: String
    package var proxyEndpoint: String
    package var expiresAt: Date?

    package init(_ authorization: RegistryAuthorization) {
        username = authorization.username
        password = authorization.password
        registry = authorization.registry
        proxyEndpoint = authorization.proxyEndpoint
        expiresAt = authorization.expiresAt
    }
}

package enum LoginWorkflow {
    /// One login per requested registry id (or the caller's own registry when none is given).
    package static func logins(ecr: ECRClient, registryIds: [String]) async throws -> [RegistryLogin] {
        let authorizations = try await ecr.getAuthorizationToken(registryIds: registryIds)
        guard !authorizations.isEmpty else { throw ECRLoginError.noAuthorizationData }
        return authorizations.map(RegistryLogin.init)
    }
}
