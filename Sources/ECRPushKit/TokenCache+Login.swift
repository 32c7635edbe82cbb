import AWSCore
import AWSCredentials
import ECR
import Foundation
import Hashing
import STS

/// Registry logins through the token cache, for `ecrpush login` and the credential helper.
public enum CachedLoginWorkflow {
    /// Who the resolved credentials stand for, stably across runs. A profile or an assumed role is named by
    /// where the credentials come from (that text holds the profile and role ARN); plain keys, instance and
    /// container roles by the caller's ARN, which costs one STS call.
    ///
    /// A web identity token names the workload that assumes the role (a GitHub job, a Kubernetes service account):
    /// its digest is part of the principal, so a replaced (or emptied) token never reuses the previous one's login.
    public static func principal(of resolved: ResolvedAWS) async throws -> String {
        let source = resolved.credentialSource
        if source.contains("role arn:") || source.hasPrefix("profile '") {
            guard let tokenFile = webIdentityTokenFile(in: source) else { return source }
            let token = FileManager.default.contents(atPath: tokenFile) ?? Data()
            let digest = token.withUnsafeBytes { SHA256.hash($0) }
            return source + " token " + digest.hex
        }
        return "caller " + (try await STSClient(context: resolved.context).getCallerIdentity().arn)
    }

    /// The path in "web identity token file PATH (role …)" or "(web identity token file PATH, role …)".
    static func webIdentityTokenFile(in source: String) -> String? {
        guard let start = source.range(of: "web identity token file ") else { return nil }
        let rest = source[start.upperBound...]
        let end = [rest.range(of: " (role ")?.lowerBound, rest.range(of: ", role ")?.lowerBound].compactMap { $0 }.min()
        return end.map { String(rest[..<$0]) }
    }

    /// The cache key of the login for `registryId` (nil: the caller's own registry).
    public static func key(resolved: ResolvedAWS, registryId: String?, principal: String) -> TokenCacheKey {
        TokenCacheKey(partition: Partition.of(region: resolved.context.region).rawValue,
                      region: resolved.context.region, registryId: registryId ?? "own", principal: principal,
                      endpoint: ECRClient(context: resolved.context).endpoint)
    }

    /// One login per registry id (or the caller's own), each from the cache when it holds a fresh one.
    /// Without a cache this is `LoginWorkflow.logins`.
    public static func logins(resolved: ResolvedAWS, registryIds: [String], cache: TokenCache?) async throws -> [RegistryLogin] {
        let ecr = ECRClient(context: resolved.context)
        guard let cache else { return try await LoginWorkflow.logins(ecr: ecr, registryIds: registryIds) }
        let principal = try await principal(of: resolved)
        var logins: [RegistryLogin] = []
        for registryId in registryIds.isEmpty ? [nil] : registryIds.map(Optional.some) {
            let key = key(resolved: resolved, registryId: registryId, principal: principal)
            let (login, fromCache) = try await cache.login(for: key) {
                let fetched = try await LoginWorkflow.logins(ecr: ecr, registryIds: registryId.map { [$0] } ?? [])
                guard let first = fetched.first else { throw ECRPushError.noAuthorizationData }
                return first
            }
            if fromCache { resolved.context.debug?("login for \(login.registry): from the token cache in \(cache.directory)") }
            logins.append(login)
        }
        return logins
    }
}
