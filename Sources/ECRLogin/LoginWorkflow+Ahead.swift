import AWSCore
import AWSCredentials
import ECR
import HTTPTransport

extension LoginWorkflow {
    /// Starts, in the background, the login a push makes first (AssumeRole when a role is named, then
    /// GetAuthorizationToken for the caller's own registry), from `input` alone (the environment, no flags), so
    /// that it runs while the command line is read. Its answers wait in `RequestsAhead` for the push's own
    /// requests, which take them only when they are the same requests.
    ///
    /// Only for credentials in environment variables (a CI job's) and a region named by one: resolving them reads
    /// nothing and asks nothing, so the only requests made are the two a push makes anyway. A profile's
    /// `credential_process`, instance metadata or a container endpoint are left to the command. Nothing is said
    /// and nothing fails here: whatever goes wrong, the command's own requests meet it and report it.
    /// `registryLogin`: false for a push that needs no registry password (ECR's layer-upload API): only the role is
    /// assumed. `repository`: the one repository the command line names, looked up (DescribeRepositories) beside
    /// GetAuthorizationToken, as the push does next. `when`: checked first, in the background (the daemon's socket
    /// answers, say); false sends nothing. `http`: the command's own AWS client, so that the connections these
    /// requests leave open carry the command's later calls.
    package static func startAhead(
        _ input: AWSResolutionInput, registryLogin: Bool = true, repository: String? = nil, http: HTTPClient = HTTPClient(),
        into store: RequestsAhead = RequestsAhead.current, when condition: @escaping @Sendable () -> Bool = { true }
    ) {
        let region = input.environment["AWS_REGION"] ?? input.environment["AWS_DEFAULT_REGION"]
        guard let region, !region.isEmpty else { return }
        // Announced before the work starts: the command's own AssumeRole, GetAuthorizationToken or
        // DescribeRepositories waits for the early one rather than racing it.
        store.expect(["AssumeRole"] + (registryLogin ? ["GetAuthorizationToken"] : []) + (repository != nil ? ["DescribeRepositories"] : []))
        Task.detached(priority: .userInitiated) {
            defer { store.forget(nil) }
            guard condition() else { return }
            await RequestsAhead.$current.withValue(store) {
                await RequestsAhead.$sending.withValue(true) {
                    guard let resolved = try? await AWSResolver.resolve(input, http: http, debug: nil),
                        resolved.credentialSource.isEnvironmentKeys
                    else { return }
                    if case .environmentKeys = resolved.credentialSource { store.forget("AssumeRole") }
                    await openECRConnections(for: resolved, count: repository != nil && registryLogin ? 2 : 1)
                    // The role first (AssumeRole), then the registry's token and the repository at once: the push
                    // needs both before its first layer and waits for the later of the two.
                    guard (try? await resolved.context.credentialProvider.credentials()) != nil else { return }
                    let ecr = ECRClient(context: resolved.context)
                    async let lookup: Void = { if let repository { _ = try? await ecr.findRepository(repository) } }()
                    if registryLogin { _ = try? await ecr.getAuthorizationToken() }
                    await lookup
                }
            }
        }
    }
}

extension CredentialSource {
    /// Keys in environment variables, or containerise.py's role assumed with them.
    var isEnvironmentKeys: Bool {
        switch self {
        case .environmentKeys: true
        case .assumedRole(_, .containeriseVariable, .environmentKeys): true
        default: false
        }
    }
}
