import AWSCore
import AWSCredentials
import ECR
import Foundation
import Hashing
import STS

/// Registry logins through the token cache, for `ecrpush login` and the credential helper.
public enum CachedLoginWorkflow {
    /// Who the resolved credentials stand for, stably across runs. A profile or an assumed role is named by
    /// where the credentials come from (that text holds the profile and role ARN); long-term keys by a digest of
    /// the key; temporary keys, instance and container roles by the caller's ARN, which costs one STS call per
    /// set of credentials (the cache remembers the answer while they are valid).
    ///
    /// A web identity token names the workload that assumes the role (a GitHub job, a Kubernetes service account):
    /// its digest is part of the principal, so a replaced (or emptied) token never reuses the previous one's login.
    public static func principal(of resolved: ResolvedAWS, cache: TokenCache? = nil) async throws -> String {
        let source = resolved.credentialSource
        if source.contains("role arn:") || source.hasPrefix("profile '") {
            guard let tokenFile = webIdentityTokenFile(in: source) else { return source }
            let token = FileManager.default.contents(atPath: tokenFile) ?? Data()
            let digest = token.withUnsafeBytes { SHA256.hash($0) }
            return source + " token " + digest.hex
        }
        let credentials = try await resolved.context.credentialProvider.credentials()
        if let longTerm = longTermKeyPrincipal(credentials) { return longTerm }
        if let arn = cache?.callerIdentity(for: credentials) { return "caller " + arn }
        let arn = try await STSClient(context: resolved.context).getCallerIdentity().arn
        cache?.remember(callerIdentity: arn, for: credentials)
        return "caller " + arn
    }

    /// An IAM user's access key (`AKIA…`, no session token) always stands for the same user, so it needs no STS
    /// call to be named. The name is an HMAC of the key id under its secret: the id never shows (not in a file
    /// name, not in the cache file), and a wrong secret misses the cache and gets AWS's own error instead of the
    /// login the right secret fetched. Temporary keys (`ASIA…` with a session token) change every session: nil.
    static func longTermKeyPrincipal(_ credentials: Credentials) -> String? {
        guard credentials.sessionToken?.isEmpty ?? true, credentials.accessKeyId.hasPrefix("AKIA") else { return nil }
        let mac = HMACSHA256.authenticationCode(key: Array(credentials.secretAccessKey.utf8), data: credentials.accessKeyId)
        return "long-term key " + Hex.encode(mac)
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
        let principal = try await principal(of: resolved, cache: cache)
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
