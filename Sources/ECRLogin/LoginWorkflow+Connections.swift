import AWSCredentials
import ECR

extension LoginWorkflow {
    /// Opens `count` connections to ECR's endpoint while the credentials are fetched, where fetching them is a
    /// request of its own (a role assumed through STS, a web identity exchanged, a metadata endpoint asked): the
    /// login's GetAuthorizationToken and the repository's lookup, sent together the moment the credentials are
    /// there, then each find a connection open. STS and ECR are different hosts on AWS, so without this both calls
    /// would pay ECR's TCP and TLS handshakes after the role's answer. Credentials at hand (keys, or a role's
    /// fetched already for another login of this command) need no head start. Returns whether it opened any.
    @discardableResult
    package static func openECRConnections(for resolved: ResolvedAWS, count: Int = 2) async -> Bool {
        guard resolved.credentialSource.isFetchedOverNetwork, await !resolved.context.credentialProvider.holdsFreshCredentials()
        else { return false }
        ECRClient(context: resolved.context).openConnections(count)
        return true
    }
}
