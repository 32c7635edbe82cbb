import AWSCore
import AWSCredentials
import ECR
import Foundation
import Hashing
import STS

/// Registry logins through the token cache, for `ecrpush login` and the credential helper.
package enum CachedLoginWorkflow {
    /// Who the resolved credentials stand for, stably across runs, from the structured credential source (never
    /// from its wording): keys at hand by a keyed digest of the key (another key or a wrong secret is another
    /// principal), a role by its ARN and what assumes it; temporary keys, credential_process, instance and
    /// container roles by the caller's ARN, which costs one STS call per set of credentials (the cache remembers
    /// the answer while they are valid).
    ///
    /// A web identity token names the workload that assumes the role (a GitHub job, a Kubernetes service account):
    /// its digest is part of the principal, so a replaced (or emptied) token never reuses the previous one's login.
    package static func principal(of resolved: ResolvedAWS, cache: TokenCache? = nil) async throws -> String {
        let source = resolved.credentialSource
        if let identity = source.cacheIdentity {
            guard let tokenFile = source.webIdentityTokenFile else { return identity }
            let token = FileManager.default.contents(atPath: tokenFile) ?? Data()
            let digest = token.withUnsafeBytes { SHA256.hash($0) }
            return identity + " token " + digest.hex
        }
        let credentials = try await resolved.context.credentialProvider.credentials()
        if let arn = cache?.callerIdentity(for: credentials) { return "caller " + arn }
        let arn = try await STSClient(context: resolved.context).getCallerIdentity().arn
        cache?.remember(callerIdentity: arn, for: credentials)
        return "caller " + arn
    }

    /// The cache key of the login for `registryId` (nil: the caller's own registry).
    package static func key(resolved: ResolvedAWS, registryId: String?, principal: String) -> TokenCacheKey {
        TokenCacheKey(
            partition: Partition.of(region: resolved.context.region).rawValue,
            region: resolved.context.region, registryId: registryId ?? "own", principal: principal,
            endpoint: ECRClient(context: resolved.context).endpoint)
    }

    /// One login per registry id (or the caller's own), each from the cache when it holds a fresh one.
    /// Without a cache this is `LoginWorkflow.logins`.
    /// A login that is not in the cache fetches the credentials first where the principal was named without them
    /// (a role): ECR's connection is opened meanwhile (`LoginWorkflow.openECRConnections`, which opens none once
    /// the credentials are at hand: after the caller's identity was asked, or for the next registry id).
    package static func logins(resolved: ResolvedAWS, registryIds: [String], cache: TokenCache?) async throws -> [RegistryLogin] {
        let ecr = ECRClient(context: resolved.context)
        guard let cache else {
            await LoginWorkflow.openECRConnections(for: resolved, count: 1)
            return try await LoginWorkflow.logins(ecr: ecr, registryIds: registryIds)
        }
        let principal = try await principal(of: resolved, cache: cache)
        var logins: [RegistryLogin] = []
        for registryId in registryIds.isEmpty ? [nil] : registryIds.map(Optional.some) {
            let key = key(resolved: resolved, registryId: registryId, principal: principal)
            let (login, fromCache) = try await cache.login(for: key) {
                await LoginWorkflow.openECRConnections(for: resolved, count: 1)
                let fetched = try await LoginWorkflow.logins(ecr: ecr, registryIds: registryId.map { [$0] } ?? [])
                guard let first = fetched.first else { throw ECRLoginError.noAuthorizationData }
                return first
            }
            if fromCache { resolved.context.debug?("login for \(login.registry): from the token cache in \(cache.directory)") }
            logins.append(login)
        }
        return logins
    }
}
