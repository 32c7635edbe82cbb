import AWSCore
import ECR
import Foundation

/// A docker login for an ECR registry, as `ecrpush login` reports it.
public struct RegistryLogin: Sendable, Equatable, Codable {
    public var username: String
    public var password: String
    public var registry: String
    public var proxyEndpoint: String
    public var expiresAt: Date?

    public init(_ authorization: RegistryAuthorization) {
        username = authorization.username
        password = authorization.password
        registry = authorization.registry
        proxyEndpoint = authorization.proxyEndpoint
        expiresAt = authorization.expiresAt
    }
}

public enum LoginWorkflow {
    /// One login per requested registry id (or the caller's own registry when none is given).
    public static func logins(ecr: ECRClient, registryIds: [String]) async throws -> [RegistryLogin] {
        let authorizations = try await ecr.getAuthorizationToken(registryIds: registryIds)
        guard !authorizations.isEmpty else { throw ECRPushError.noAuthorizationData }
        return authorizations.map(RegistryLogin.init)
    }
}
