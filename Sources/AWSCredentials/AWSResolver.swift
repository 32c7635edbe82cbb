import AWSCore
import Foundation
import HTTPTransport
import STS

/// Everything the credential chain and region resolution read. The environment and home directory are passed
/// in (never read from the process here) so that tests can use fake ones.
package struct AWSResolutionInput: Sendable {
    package var environment: [String: String]
    /// For `~/.aws/config`, `~/.aws/credentials` and `~/` in paths.
    package var homeDirectory: String
    /// `--profile`: this profile comes first, before the environment's keys.
    package var profile: String?
    /// `--region`
    package var region: String?
    /// Where `region` came from, for messages and `--debug` (nil: the `--region` flag).
    package var regionSource: String?
    /// `--endpoint-url`: every service goes there (it beats `AWS_ENDPOINT_URL*`).
    package var endpointURL: String?
    /// `--role-arn`: assumed on top of whatever the chain found.
    package var roleArn: String?
    /// The role flags below describe the outermost role ecrpush assumes: `--role-arn`'s, or else the
    /// containerise.py role (`AWS_IAM_ROLE_ARN`).
    package var roleSessionName: String?
    package var externalId: String?
    package var durationSeconds: Int?
    package var mfaSerial: String?
    /// Also answers a profile's `mfa_serial`.
    package var mfaTokenCode: String?

    package init(
        environment: [String: String], homeDirectory: String, profile: String? = nil, region: String? = nil,
        endpointURL: String? = nil, roleArn: String? = nil, roleSessionName: String? = nil,
        externalId: String? = nil, durationSeconds: Int? = nil, mfaSerial: String? = nil,
        mfaTokenCode: String? = nil
    ) {
        self.environment = environment
        self.homeDirectory = homeDirectory
        self.profile = profile
        self.region = region
        self.endpointURL = endpointURL
        self.roleArn = roleArn
        self.roleSessionName = roleSessionName
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.mfaSerial = mfaSerial
        self.mfaTokenCode = mfaTokenCode
    }
}

package struct ResolvedAWS: Sendable {
    /// Region, endpoints, the credential chain (cached, refreshed before expiry), HTTP client, retries
    /// (`AWS_MAX_ATTEMPTS`) and debug log, ready for the service clients.
    package var context: AWSContext
    /// Where the credentials come from; its description reads e.g. "environment variables (AWS_ACCESS_KEY_ID)"
    /// or "profile 'dev' (role arn:aws:iam::123456789012:role/x via source_profile 'base')".
    /// (For the EC2 instance role, `context.credentialProvider.source` names the role once it has been fetched.)
    package var credentialSource: CredentialSource
    /// Where the region comes from: "--region", "AWS_REGION", "profile 'dev' in /home/me/.aws/config", …
    package var regionSource: String

    package init(context: AWSContext, credentialSource: CredentialSource, regionSource: String) {
        self.context = context
        self.credentialSource = credentialSource
        self.regionSource = regionSource
    }
}

package enum AWSResolver {
    /// Finds the credentials and the region. Reads the environment and files only; the network is used for
    /// IMDS's region when nothing else names one, and otherwise only once credentials are asked for.
    /// Throws `AWSError` (`missingCredentials`, `missingRegion`, `malformedConfigFile`, `invalidConfiguration`,
    /// `invalidParameter`, `credentialProviderFailed`).
    package static func resolve(_ input: AWSResolutionInput, http: HTTPClient, debug: DebugLog?) async throws -> ResolvedAWS {
        try validateRoleFlags(input)
        // Before instance metadata is asked for the region: a bad setting is said before any request.
        let retry = try RetryPolicy.fromEnvironment(input.environment)
        let files = SharedConfigLoader(environment: input.environment, homeDirectory: input.homeDirectory)
        let profile = ProfileSelection(input: input)
        if let namedBy = profile.namedBy { _ = try files.requireProfile(profile.name, namedBy: namedBy) }

        let chain = CredentialChain(input: input, files: files, profile: profile, http: http, debug: debug)
        let recipe = try chain.select()
        debug?("credentials: \(recipe.source)")

        let imds = IMDSClient.fromEnvironment(input.environment, http: http, debug: debug)
        let region: RegionResolver.Resolution
        switch try await RegionResolver.resolve(input: input, profile: profile, files: files, imds: imds) {
        case .found(let found):
            region = found
        case .missing(let searched, let imdsUnreachable):
            // Off EC2 with nothing configured: the missing credentials are the news, not the region.
            if imdsUnreachable, case .ready(let imdsProvider as IMDSCredentialProvider, _, _) = recipe,
                let searchedBefore = imdsProvider.searchedBefore, let imdsNote = searched.last
            {
                throw AWSError.missingCredentials(searched: searchedBefore + [imdsNote])
            }
            throw AWSError.missingRegion(searched: searched)
        }
        debug?("region: \(region.region) (from \(region.source))")

        var endpoints = EndpointConfiguration.fromEnvironment(input.environment)
        if let url = input.endpointURL, !url.isEmpty {
            // The flag is the most specific statement there is: it beats AWS_ENDPOINT_URL_<SERVICE> too.
            endpoints.globalURL = url
            endpoints.serviceURLs = [:]
        }
        let base = AWSContext(
            region: region.region, endpoints: endpoints, credentialProvider: NoCredentialProvider(),
            http: http, retry: retry, debug: debug)

        var (provider, origin) = recipe.build(stsContext: base)
        var source = recipe.source
        if let roleArn = input.roleArn {
            let request = STSClient.AssumeRoleRequest(
                roleArn: roleArn, roleSessionName: input.roleSessionName ?? SessionNames.generated(),
                externalId: input.externalId, durationSeconds: input.durationSeconds,
                serialNumber: input.mfaSerial, tokenCode: input.mfaSerial != nil ? input.mfaTokenCode : nil)
            source = .assumedRole(roleArn: roleArn, origin: .flag, base: source)
            let assume = AssumeRoleCredentialProvider(
                request: request, sourceCredentials: provider, stsContext: base,
                source: source.description)
            (provider, origin) = (RefreshingCredentialProvider(assume), assume)
            debug?("credentials: then assuming \(roleArn)")
        }
        let context = base.with(credentialProvider: CredentialChainProvider(provider: provider, origin: origin))
        return ResolvedAWS(context: context, credentialSource: source, regionSource: region.source)
    }

    /// `--role-arn` and its companions are checked before anything is read or sent.
    static func validateRoleFlags(_ input: AWSResolutionInput) throws(AWSError) {
        if let roleArn = input.roleArn, !STSValidation.isRoleARN(roleArn) {
            throw AWSError.invalidParameter(
                name: "--role-arn", value: roleArn,
                expected: STSValidation.roleARNExpectation)
        }
        if let name = input.roleSessionName { try validate(sessionName: name, origin: "--role-session-name") }
        if let seconds = input.durationSeconds, !(900...43200).contains(seconds) {
            throw AWSError.invalidParameter(
                name: "--duration", value: String(seconds),
                expected: "a number of seconds between 900 and 43200")
        }
        if input.mfaSerial != nil, input.mfaTokenCode?.isEmpty ?? true {
            throw AWSError.invalidConfiguration("--mfa-serial needs --mfa-token-code with the device's current code")
        }
        if let code = input.mfaTokenCode, !code.isEmpty, !(code.count == 6 && code.allSatisfy(\.isASCII) && code.allSatisfy(\.isNumber)) {
            // Not echoed: a token code is a (short-lived) secret.
            throw AWSError.invalidParameter(name: "--mfa-token-code", value: Redaction.placeholder, expected: "the 6 digits the MFA device shows")
        }
    }

    static func validate(sessionName: String, origin: String) throws(AWSError) {
        guard STSValidation.isSessionName(sessionName) else {
            throw AWSError.invalidParameter(
                name: origin, value: sessionName,
                expected: "2 to 64 characters of letters, digits and =,.@-_")
        }
    }
}
