import AWSCore
import AWSCredentials
import ECR
import Foundation

extension LoginWorkflow {
    /// The login for ECR Public (`public.ecr.aws`).
    package static func publicLogin(ecrPublic: ECRPublicClient) async throws -> RegistryLogin {
        RegistryLogin(try await ecrPublic.getAuthorizationToken())
    }
}

extension CachedLoginWorkflow {
    /// ECR Public's logins are cached under registry id `ecr-public`, which no account id (12 digits) or "own"
    /// can be, and under ECR Public's endpoint: never mistaken for a private registry's login.
    package static let publicRegistryId = "ecr-public"

    package static func publicKey(resolved: ResolvedAWS, principal: String) -> TokenCacheKey {
        TokenCacheKey(
            partition: Partition.aws.rawValue, region: ECRPublicClient.region, registryId: publicRegistryId,
            principal: principal, endpoint: ECRPublicClient(context: resolved.context).endpoint)
    }

    /// The login for `public.ecr.aws`, from the cache when it holds a fresh one.
    package static func publicLogin(resolved: ResolvedAWS, cache: TokenCache?) async throws -> RegistryLogin {
        let client = ECRPublicClient(context: resolved.context)
        guard let cache else { return try await LoginWorkflow.publicLogin(ecrPublic: client) }
        let key = publicKey(resolved: resolved, principal: try await principal(of: resolved, cache: cache))
        let (login, fromCache) = try await cache.login(for: key) { try await LoginWorkflow.publicLogin(ecrPublic: client) }
        if fromCache { resolved.context.debug?("login for \(login.registry): from the token cache in \(cache.directory)") }
        return login
    }

    /// The login for a `--registry` value or server URL: ECR Public's, or the (section's or host's) account's,
    /// named as docker knows the registry (a section's registry_endpoint, a custom domain).
    package static func login(for target: RegistryTarget, resolved: ResolvedAWS, cache: TokenCache?) async throws -> RegistryLogin {
        var login: RegistryLogin
        if target.isPublic {
            login = try await publicLogin(resolved: resolved, cache: cache)
        } else {
            let logins = try await logins(resolved: resolved, registryIds: target.registryId.map { [$0] } ?? [], cache: cache)
            guard let first = logins.first else { throw ECRLoginError.noAuthorizationData }
            login = first
        }
        if let registry = target.dockerRegistry { login.registry = registry }
        return login
    }
}
