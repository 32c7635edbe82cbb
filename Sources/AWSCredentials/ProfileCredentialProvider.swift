import AWSCore
import Foundation
import HTTPTransport
import STS
import SigV4

/// Credentials described by a profile of the shared files, in the SDKs' order of precedence:
/// 1. `role_arn` with `source_profile` (chains of any depth; a profile may be its own source only when it has
///    static keys) or `credential_source` (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`), with
///    `external_id`, `role_session_name`, `duration_seconds`, `mfa_serial`;
/// 2. `web_identity_token_file` with `role_arn`;
/// 3. static keys (`aws_access_key_id`, `aws_secret_access_key`, `aws_session_token`);
/// 4. `credential_process`;
/// `sso_*` profiles are refused with a workaround. A profile with none of these yields nothing, and the chain
/// goes on (a profile that only sets `region` is common on EC2).
/// Only files are read here; the network is used when credentials are asked for.
struct ProfileCredentialProvider {
    let config: SharedConfig
    let input: AWSResolutionInput
    let http: HTTPClient
    let debug: DebugLog?
    var now = Date()

    static let ssoKeys = ["sso_start_url", "sso_session", "sso_account_id", "sso_role_name"]

    /// nil when the profile does not exist or holds no credential settings.
    func recipe(forProfile name: String) throws(AWSError) -> CredentialRecipe? {
        guard let profile = config.profile(named: name) else { return nil }
        return try recipe(for: profile, chain: [name])
    }

    private func recipe(for profile: SharedConfigProfile, chain: [String]) throws(AWSError) -> CredentialRecipe? {
        if let roleArn = profile.value("role_arn"), profile.value("web_identity_token_file") == nil {
            return try assumeRoleRecipe(profile, roleArn: roleArn, chain: chain)
        }
        if let tokenFile = profile.value("web_identity_token_file") {
            guard let roleArn = profile.value("role_arn") else {
                throw invalid(profile, "has web_identity_token_file but no role_arn: add the ARN of the role to assume")
            }
            try validate(roleArn: roleArn, in: profile)
            let sessionName = try sessionName(for: profile)
            let path = PathExpansion.expand(tokenFile, home: input.homeDirectory)
            return .webIdentity(tokenFile: path, roleArn: roleArn, sessionName: sessionName, profile: profile.name)
        }
        if let keys = try staticKeys(profile) {
            return staticRecipe(keys, of: profile)
        }
        if let command = profile.value("credential_process") {
            let source = CredentialSource.credentialProcess(profile: profile.name)
            return .ready(
                ProcessCredentialProvider(
                    command: command, environment: input.environment,
                    source: source.description),
                temporary: true, source: source)
        }
        if let key = Self.ssoKeys.first(where: { profile.value($0) != nil }) {
            throw invalid(
                profile,
                "uses AWS IAM Identity Center (\(key)), which ecrpush does not support yet. Run `aws sso login --profile \(profile.name)` and add a "
                    + "profile with credential_process = aws configure export-credentials --profile \(profile.name) --format process"
            )
        }
        return nil
    }

    private func assumeRoleRecipe(
        _ profile: SharedConfigProfile, roleArn: String,
        chain: [String]
    ) throws(AWSError) -> CredentialRecipe {
        try validate(roleArn: roleArn, in: profile)
        let sourceProfile = profile.value("source_profile"), credentialSource = profile.value("credential_source")
        let base: CredentialRecipe
        let via: String
        switch (sourceProfile, credentialSource) {
        case (.some, .some):
            throw invalid(profile, "sets both source_profile and credential_source: keep only one")
        case (nil, nil):
            throw invalid(
                profile,
                "has role_arn but no source_profile, credential_source or web_identity_token_file to get the credentials that assume the role")
        case (nil, .some(let credentialSource)):
            base = try credentialSourceRecipe(credentialSource, profile: profile)
            via = "credential_source \(credentialSource)"
        case (.some(let sourceName), nil):
            base = try sourceProfileRecipe(sourceName, of: profile, chain: chain)
            via = "source_profile '\(sourceName)'"
        }

        var serialNumber: String?, tokenCode: String?
        if let serial = profile.value("mfa_serial") {
            guard let code = input.mfaTokenCode, !code.isEmpty else {
                throw invalid(profile, "requires MFA (mfa_serial = \(serial)): pass the current code of that device with --mfa-token-code")
            }
            serialNumber = serial
            tokenCode = code
        }
        var duration: Int?
        if let text = profile.value("duration_seconds") {
            guard let seconds = Int(text), (900...43200).contains(seconds) else {
                throw AWSError.invalidParameter(
                    name: "duration_seconds of \(SharedConfigLoader.describe(profile))",
                    value: text, expected: "a number of seconds between 900 and 43200")
            }
            duration = seconds
        }
        let request = STSClient.AssumeRoleRequest(
            roleArn: roleArn, roleSessionName: try sessionName(for: profile),
            externalId: profile.value("external_id"), durationSeconds: duration,
            serialNumber: serialNumber, tokenCode: tokenCode)
        return .assumeRole(request, base: base, origin: .profile(name: profile.name, via: via))
    }

    /// The credentials `source_profile` names. As in the SDKs, a source profile's static keys win over its own
    /// `role_arn`; otherwise it is resolved like any profile, which is how role chains form.
    private func sourceProfileRecipe(
        _ sourceName: String, of profile: SharedConfigProfile,
        chain: [String]
    ) throws(AWSError) -> CredentialRecipe {
        if sourceName == profile.name {
            guard let keys = try staticKeys(profile) else {
                throw cycle(
                    chain + [sourceName], note: "a profile may be its own source_profile only when it has aws_access_key_id and aws_secret_access_key"
                )
            }
            return staticRecipe(keys, of: profile)
        }
        if chain.contains(sourceName) { throw cycle(chain + [sourceName], note: nil) }
        guard let source = config.profile(named: sourceName) else {
            let names = config.profileNames
            throw invalid(
                profile,
                "names source_profile '\(sourceName)', which does not exist; profiles found: "
                    + "\(names.isEmpty ? "none" : names.joined(separator: ", "))"
            )
        }
        if let keys = try staticKeys(source) {
            return staticRecipe(keys, of: source)
        }
        guard let recipe = try recipe(for: source, chain: chain + [sourceName]) else {
            throw invalid(
                source,
                "is the source_profile of profile '\(profile.name)' but has no credentials: give it aws_access_key_id and aws_secret_access_key, "
                    + "role_arn, web_identity_token_file or credential_process"
            )
        }
        return recipe
    }

    private func credentialSourceRecipe(_ value: String, profile: SharedConfigProfile) throws(AWSError) -> CredentialRecipe {
        switch value.lowercased() {
        case "environment":
            guard let keys = try EnvironmentCredentialProvider.read(environment: input.environment, names: .standard) else {
                throw invalid(profile, "has credential_source = Environment but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
            }
            return .keys(keys) { .environmentKeys(variable: "AWS_ACCESS_KEY_ID", key: $0) }
        case "ec2instancemetadata":
            guard let client = IMDSClient.fromEnvironment(input.environment, http: http, debug: debug) else {
                throw invalid(profile, "has credential_source = Ec2InstanceMetadata but AWS_EC2_METADATA_DISABLED=true")
            }
            return .ready(
                IMDSCredentialProvider(client: client, searchedBefore: nil), temporary: true,
                source: .instanceMetadata(endpoint: client.endpoint))
        case "ecscontainer":
            guard let ecs = try ECSCredentialProvider.fromEnvironment(input.environment, http: http, debug: debug) else {
                throw invalid(
                    profile,
                    "has credential_source = EcsContainer but neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI "
                        + "is set"
                )
            }
            return .ready(ecs, temporary: true, source: .containerEndpoint(url: ecs.url))
        default:
            throw AWSError.invalidParameter(
                name: "credential_source of \(SharedConfigLoader.describe(profile))", value: value,
                expected: "Environment, Ec2InstanceMetadata or EcsContainer")
        }
    }

    private func staticKeys(_ profile: SharedConfigProfile) throws(AWSError) -> Credentials? {
        switch (profile.value("aws_access_key_id"), profile.value("aws_secret_access_key")) {
        case (nil, nil):
            return nil
        case (.some, nil):
            throw invalid(profile, "has aws_access_key_id but no aws_secret_access_key")
        case (nil, .some):
            throw invalid(profile, "has aws_secret_access_key but no aws_access_key_id")
        case (.some(let keyId), .some(let secret)):
            return Credentials(accessKeyId: keyId, secretAccessKey: secret, sessionToken: profile.value("aws_session_token"))
        }
    }

    private func staticRecipe(_ keys: Credentials, of profile: SharedConfigProfile) -> CredentialRecipe {
        // The keys usually live in the credentials file; name the file they came from.
        let inCredentialsFile = config.credentialsFile?.section(named: profile.name)?["aws_access_key_id"] != nil
        let file = inCredentialsFile ? config.credentialsPath : config.configPath
        return .keys(keys) { .profileKeys(profile: profile.name, file: file, key: $0) }
    }

    private func sessionName(for profile: SharedConfigProfile) throws(AWSError) -> String {
        guard let name = profile.value("role_session_name") else { return SessionNames.generated(now: now) }
        guard STSValidation.isSessionName(name) else {
            throw AWSError.invalidParameter(
                name: "role_session_name of \(SharedConfigLoader.describe(profile))", value: name,
                expected: "2 to 64 characters of letters, digits and =,.@-_")
        }
        return name
    }

    private func validate(roleArn: String, in profile: SharedConfigProfile) throws(AWSError) {
        guard STSValidation.isRoleARN(roleArn) else {
            throw AWSError.invalidParameter(
                name: "role_arn of \(SharedConfigLoader.describe(profile))", value: roleArn,
                expected: STSValidation.roleARNExpectation)
        }
    }

    private func invalid(_ profile: SharedConfigProfile, _ detail: String) -> AWSError {
        .invalidConfiguration("\(SharedConfigLoader.describe(profile)) \(detail)")
    }

    private func cycle(_ path: [String], note: String?) -> AWSError {
        let names = path.map { "'\($0)'" }.joined(separator: " -> ")
        return .invalidConfiguration(
            "source_profile chain has a cycle: \(names) (in \(config.configPath) / \(config.credentialsPath))"
                + (note.map { "; \($0)" } ?? ""))
    }
}
