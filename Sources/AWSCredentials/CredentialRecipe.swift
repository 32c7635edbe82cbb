import AWSCore
import STS

/// What the chain chose, decided without any network traffic. Sources that need STS are built only once the
/// region (and so the STS endpoint) is known; the others are built when chosen.
indirect enum CredentialRecipe: Sendable {
    /// A provider that needs no STS: static keys, credential_process, ECS, IMDS.
    case ready(any CredentialProvider, temporary: Bool)
    case assumeRole(STSClient.AssumeRoleRequest, base: CredentialRecipe, source: String)
    case webIdentity(tokenFile: String, roleArn: String, sessionName: String, source: String)

    var source: String {
        switch self {
        case .ready(let provider, _): return provider.source
        case .assumeRole(_, _, let source), .webIdentity(_, _, _, let source): return source
        }
    }

    /// IMDS as the last link of the chain: its failure to answer means "no credentials anywhere".
    var isIMDSLastResort: Bool {
        if case .ready(let provider as IMDSCredentialProvider, _) = self { return provider.searchedBefore != nil }
        return false
    }

    /// The provider, with temporary credentials cached and refreshed before they expire. `stsContext` gives the
    /// region, endpoints, HTTP client, retries and debug log for role assumption.
    func build(stsContext: AWSContext) -> (provider: any CredentialProvider, origin: any CredentialProvider) {
        switch self {
        case .ready(let provider, let temporary):
            return (temporary ? RefreshingCredentialProvider(provider) : provider, provider)
        case .assumeRole(let request, let base, let source):
            let sourceCredentials = base.build(stsContext: stsContext).provider
            let provider = AssumeRoleCredentialProvider(request: request, sourceCredentials: sourceCredentials,
                                                        stsContext: stsContext, source: source)
            return (RefreshingCredentialProvider(provider), provider)
        case .webIdentity(let tokenFile, let roleArn, let sessionName, let source):
            let provider = WebIdentityCredentialProvider(tokenFile: tokenFile, roleArn: roleArn, roleSessionName: sessionName,
                                                         stsContext: stsContext, source: source)
            return (RefreshingCredentialProvider(provider), provider)
        }
    }
}
