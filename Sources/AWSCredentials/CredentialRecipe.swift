import AWSCore
import STS
import SigV4

/// What the chain chose, decided without any network traffic. Sources that need STS are built only once the
/// region (and so the STS endpoint) is known; the others are built when chosen.
indirect enum CredentialRecipe: Sendable {
    /// A provider that needs no STS: static keys, credential_process, ECS, IMDS.
    case ready(any CredentialProvider, temporary: Bool, source: CredentialSource)
    case assumeRole(STSClient.AssumeRoleRequest, base: CredentialRecipe, origin: CredentialSource.RoleOrigin)
    case webIdentity(tokenFile: String, roleArn: String, sessionName: String, profile: String?)

    /// Static keys, named by their `KeyIdentity`; `source` places them (environment or profile).
    static func keys(_ credentials: Credentials, source: (KeyIdentity) -> CredentialSource) -> CredentialRecipe {
        let described = source(KeyIdentity(credentials))
        return .ready(
            StaticCredentialProvider(credentials, source: described.description),
            temporary: credentials.expiration != nil, source: described)
    }

    var source: CredentialSource {
        switch self {
        case .ready(_, _, let source): return source
        case .assumeRole(let request, let base, let origin):
            return .assumedRole(roleArn: request.roleArn, origin: origin, base: base.source)
        case .webIdentity(let tokenFile, let roleArn, _, let profile):
            return .webIdentity(tokenFile: tokenFile, roleArn: roleArn, profile: profile)
        }
    }

    /// IMDS as the last link of the chain: its failure to answer means "no credentials anywhere".
    var isIMDSLastResort: Bool {
        if case .ready(let provider as IMDSCredentialProvider, _, _) = self { return provider.searchedBefore != nil }
        return false
    }

    /// The provider, with temporary credentials cached and refreshed before they expire. `stsContext` gives the
    /// region, endpoints, HTTP client, retries and debug log for role assumption.
    func build(stsContext: AWSContext) -> (provider: any CredentialProvider, origin: any CredentialProvider) {
        switch self {
        case .ready(let provider, let temporary, _):
            return (temporary ? RefreshingCredentialProvider(provider) : provider, provider)
        case .assumeRole(let request, let base, _):
            let sourceCredentials = base.build(stsContext: stsContext).provider
            let provider = AssumeRoleCredentialProvider(
                request: request, sourceCredentials: sourceCredentials,
                stsContext: stsContext, source: source.description)
            return (RefreshingCredentialProvider(provider), provider)
        case .webIdentity(let tokenFile, let roleArn, let sessionName, _):
            let provider = WebIdentityCredentialProvider(
                tokenFile: tokenFile, roleArn: roleArn, roleSessionName: sessionName,
                stsContext: stsContext, source: source.description)
            return (RefreshingCredentialProvider(provider), provider)
        }
    }
}
