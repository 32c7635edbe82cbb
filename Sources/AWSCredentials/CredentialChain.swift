import AWSCore
import Foundation
import HTTPTransport
import STS
import SigV4

/// The AWS SDKs' default credential chain, with ecrpush's additions. The first source that is configured wins:
/// 0. the profile named by `--profile` (an explicit flag beats the environment);
/// 1. `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`;
/// 2. containerise.py's `AWS_IAM_USER_ACCESS_KEY_ID` / `AWS_IAM_USER_SECRET_ACCESS_KEY`, assuming
///    `AWS_IAM_ROLE_ARN` when it is set;
/// 3. `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`;
/// 4. the profile `AWS_PROFILE` (else `default`) of the shared files;
/// 5. ECS container credentials;
/// 6. the EC2 instance role (IMDSv2).
/// Choosing reads only the environment and files; a configured source that then fails is an error (the chain
/// does not silently skip to the next one), as in the SDKs.
struct CredentialChain {
    let input: AWSResolutionInput
    let files: SharedConfigLoader
    let profile: ProfileSelection
    let http: HTTPClient
    let debug: DebugLog?

    func select() throws(AWSError) -> CredentialRecipe {
        let env = EnvironmentReader(input.environment)
        var searched: [String] = []

        if profile.origin == .flag {
            if let recipe = try profileRecipe() { return recipe }
            searched.append(profileSearchNote(name: profile.name, note: "has no credential settings"))
        }

        if let keys = try EnvironmentCredentialProvider.read(environment: input.environment, names: .standard) {
            return .keys(keys) { .environmentKeys(variable: "AWS_ACCESS_KEY_ID", key: $0) }
        }
        searched.append("environment variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")

        if let recipe = try containeriseRecipe(env) { return recipe }
        searched.append("environment variables AWS_IAM_USER_ACCESS_KEY_ID / AWS_IAM_USER_SECRET_ACCESS_KEY")

        if let recipe = try webIdentityRecipe(env) { return recipe }
        searched.append("web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN)")

        if profile.origin != .flag {
            if let recipe = try profileRecipe() { return recipe }
            let exists = try files.load().profile(named: profile.name) != nil
            searched.append(profileSearchNote(name: profile.name, note: exists ? "has no credential settings" : "not found"))
        }

        if let ecs = try ECSCredentialProvider.fromEnvironment(input.environment, http: http, debug: debug) {
            return .ready(ecs, temporary: true, source: .containerEndpoint(url: ecs.url))
        }
        searched.append("ECS container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / AWS_CONTAINER_CREDENTIALS_FULL_URI not set)")

        guard let imds = IMDSClient.fromEnvironment(input.environment, http: http, debug: debug) else {
            searched.append("EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)")
            throw AWSError.missingCredentials(searched: searched)
        }
        return .ready(
            IMDSCredentialProvider(client: imds, searchedBefore: searched), temporary: true,
            source: .instanceMetadata(endpoint: imds.endpoint))
    }

    private func profileRecipe() throws(AWSError) -> CredentialRecipe? {
        let config = try files.load()
        let resolver = ProfileCredentialProvider(config: config, input: input, http: http, debug: debug)
        return try resolver.recipe(forProfile: profile.name)
    }

    private func profileSearchNote(name: String, note: String) -> String {
        let (config, credentials) = files.paths
        return "profile '\(name)' in \(config) and \(credentials) (\(note))"
    }

    private func containeriseRecipe(_ env: EnvironmentReader) throws(AWSError) -> CredentialRecipe? {
        guard let user = try EnvironmentCredentialProvider.read(environment: input.environment, names: .containeriseUser) else {
            return nil
        }
        let userKeys = CredentialRecipe.keys(user) { .environmentKeys(variable: "AWS_IAM_USER_ACCESS_KEY_ID", key: $0) }
        guard let roleArn = env["AWS_IAM_ROLE_ARN"] else { return userKeys }
        guard STSValidation.isRoleARN(roleArn) else {
            throw AWSError.invalidParameter(
                name: "AWS_IAM_ROLE_ARN", value: roleArn,
                expected: STSValidation.roleARNExpectation)
        }
        // The role flags describe the outermost role ecrpush assumes: this one unless --role-arn adds another.
        let flagsApply = input.roleArn == nil
        let sessionName = (flagsApply ? input.roleSessionName : nil) ?? env["AWS_IAM_ROLE_SESSION_NAME"] ?? "AssumeRoleSession1"
        try AWSResolver.validate(
            sessionName: sessionName,
            origin: flagsApply && input.roleSessionName != nil
                ? "--role-session-name" : "AWS_IAM_ROLE_SESSION_NAME")
        let request = STSClient.AssumeRoleRequest(
            roleArn: roleArn, roleSessionName: sessionName,
            externalId: flagsApply ? input.externalId : nil, durationSeconds: flagsApply ? input.durationSeconds : nil,
            serialNumber: flagsApply ? input.mfaSerial : nil, tokenCode: flagsApply && input.mfaSerial != nil ? input.mfaTokenCode : nil)
        return .assumeRole(request, base: userKeys, origin: .containeriseVariable)
    }

    private func webIdentityRecipe(_ env: EnvironmentReader) throws(AWSError) -> CredentialRecipe? {
        guard let tokenFile = env["AWS_WEB_IDENTITY_TOKEN_FILE"] else { return nil }
        guard let roleArn = env["AWS_ROLE_ARN"] else {
            throw AWSError.credentialProviderFailed(
                source: "web identity", detail: "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: set the ARN of the role to assume")
        }
        guard STSValidation.isRoleARN(roleArn) else {
            throw AWSError.invalidParameter(
                name: "AWS_ROLE_ARN", value: roleArn,
                expected: STSValidation.roleARNExpectation)
        }
        let sessionName = env["AWS_ROLE_SESSION_NAME"] ?? SessionNames.generated()
        try AWSResolver.validate(sessionName: sessionName, origin: "AWS_ROLE_SESSION_NAME")
        let path = PathExpansion.expand(tokenFile, home: input.homeDirectory)
        return .webIdentity(tokenFile: path, roleArn: roleArn, sessionName: sessionName, profile: nil)
    }
}

/// Which profile the resolution uses, and who named it.
struct ProfileSelection: Sendable {
    enum Origin: Sendable, Equatable {
        case flag, environment(String), defaultName
    }

    let name: String
    let origin: Origin

    init(input: AWSResolutionInput) {
        let env = EnvironmentReader(input.environment)
        if let flag = input.profile, !flag.isEmpty {
            (name, origin) = (flag, .flag)
        } else if let fromEnv = env["AWS_PROFILE"] {
            (name, origin) = (fromEnv, .environment("AWS_PROFILE"))
        } else if let legacy = env["AWS_DEFAULT_PROFILE"] {
            (name, origin) = (legacy, .environment("AWS_DEFAULT_PROFILE"))
        } else {
            (name, origin) = ("default", .defaultName)
        }
    }

    var namedBy: String? {
        switch origin {
        case .flag: return "--profile"
        case .environment(let variable): return variable
        case .defaultName: return nil
        }
    }
}

/// The chain as one provider: cached and refreshed credentials, and a `source` that follows the chosen
/// provider (the EC2 role's name is only known after the first fetch).
package struct CredentialChainProvider: CredentialProvider {
    private let provider: any CredentialProvider
    private let origin: any CredentialProvider

    init(provider: any CredentialProvider, origin: any CredentialProvider) {
        self.provider = provider
        self.origin = origin
    }

    package var source: String { origin.source }

    package func credentials() async throws -> Credentials { try await provider.credentials() }

    package func holdsFreshCredentials() async -> Bool { await provider.holdsFreshCredentials() }
}
