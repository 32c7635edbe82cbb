import AWSCore
import STS
import SigV4

/// Temporary credentials from STS AssumeRole, signed with another provider's credentials. Wrap it in
/// `RefreshingCredentialProvider`: every `credentials()` call is one AssumeRole request.
package struct AssumeRoleCredentialProvider: CredentialProvider {
    package let request: STSClient.AssumeRoleRequest
    package let source: String
    private let sts: STSClient
    private let debug: DebugLog?

    /// `stsContext` carries the region, endpoints, HTTP client and debug log; its credentials are replaced by
    /// `sourceCredentials`.
    package init(
        request: STSClient.AssumeRoleRequest, sourceCredentials: any CredentialProvider,
        stsContext: AWSContext, source: String? = nil
    ) {
        self.request = request
        self.sts = STSClient(context: stsContext.with(credentialProvider: sourceCredentials))
        self.debug = stsContext.debug
        self.source = source ?? "role \(request.roleArn) (assumed with \(sourceCredentials.source))"
    }

    package func credentials() async throws -> Credentials {
        // STS errors (AccessDenied, SignatureDoesNotMatch…) stay `AWSError.service`: their description already
        // names STS AssumeRole and what to do, and callers can match the code.
        let assumed = try await sts.assumeRole(request)
        debug?(
            "credentials: assumed \(assumed.assumedRoleArn.isEmpty ? request.roleArn : assumed.assumedRoleArn)"
                + (assumed.credentials.expiration.map { " until \(Timestamps.formatISO8601($0))" } ?? ""))
        return assumed.credentials
    }
}
