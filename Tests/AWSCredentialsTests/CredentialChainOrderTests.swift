import AWSCore
import AWSCredentials
import Foundation
import SigV4
import Testing

/// The chain's order with fake environments and files: each source beats the ones after it. Nothing here
/// touches the network (IMDS is disabled, and role sources are only described, not called).
@Suite struct CredentialChainOrderTests {
    static let envKeys = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"]
    static let userKeys = ["AWS_IAM_USER_ACCESS_KEY_ID": "AKIAUSER", "AWS_IAM_USER_SECRET_ACCESS_KEY": "user-secret"]
    static let roleArn = "arn:aws:iam::123456789012:role/ecr-pusher"
    static let webIdentity = ["AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/oidc"]
    static let ecs = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds"]
    static let defaultProfile = """
        [default]
        aws_access_key_id = AKIADEFAULT
        aws_secret_access_key = default-secret
        [other]
        aws_access_key_id = AKIAOTHER
        aws_secret_access_key = other-secret
        """

    private func webIdentityEnv(_ home: FakeHome) throws -> [String: String] {
        let token = try home.file("token.jwt", "header.payload.signature\n")
        return Self.webIdentity.merging(["AWS_WEB_IDENTITY_TOKEN_FILE": token]) { $1 }
    }

    @Test func environmentKeysBeatEverythingLater() async throws {
        let home = try FakeHome(credentials: Self.defaultProfile)
        let env = Self.envKeys.merging(Self.userKeys) { $1 }.merging(try webIdentityEnv(home)) { $1 }
            .merging(Self.ecs) { $1 }.merging(["AWS_SESSION_TOKEN": "env-token"]) { $1 }
        let resolved = try await resolve(home.input(env))
        #expect(resolved.credentialSource.description == "environment variables (AWS_ACCESS_KEY_ID)")
        let credentials = try await resolved.context.credentialProvider.credentials()
        #expect(credentials == Credentials(accessKeyId: "AKIAENV", secretAccessKey: "env-secret", sessionToken: "env-token"))
    }

    @Test func containeriseUserKeysBeatWebIdentityProfileAndECS() async throws {
        let home = try FakeHome(credentials: Self.defaultProfile)
        let env = Self.userKeys.merging(try webIdentityEnv(home)) { $1 }.merging(Self.ecs) { $1 }
        let resolved = try await resolve(home.input(env))
        #expect(resolved.credentialSource.description == "environment variables (AWS_IAM_USER_ACCESS_KEY_ID)")
        let credentials = try await resolved.context.credentialProvider.credentials()
        #expect(credentials.accessKeyId == "AKIAUSER")
        #expect(credentials.secretAccessKey == "user-secret")
        #expect(credentials.sessionToken == nil)
    }

    @Test func containeriseRoleArnIsAssumedWithTheUserKeys() async throws {
        let home = try FakeHome()
        let resolved = try await resolve(home.input(Self.userKeys.merging(["AWS_IAM_ROLE_ARN": Self.roleArn]) { $1 }))
        #expect(resolved.credentialSource.description.contains("AWS_IAM_USER_ACCESS_KEY_ID"))
        #expect(resolved.credentialSource.description.contains(Self.roleArn))
    }

    @Test func webIdentityBeatsProfileAndECS() async throws {
        let home = try FakeHome(credentials: Self.defaultProfile)
        let env = try webIdentityEnv(home).merging(Self.ecs) { $1 }
        let resolved = try await resolve(home.input(env))
        #expect(resolved.credentialSource.description.hasPrefix("web identity token file \(home.path)/token.jwt"))
        #expect(resolved.credentialSource.description.contains("arn:aws:iam::123456789012:role/oidc"))
    }

    @Test func defaultProfileBeatsECS() async throws {
        let home = try FakeHome(credentials: Self.defaultProfile)
        let resolved = try await resolve(home.input(Self.ecs))
        #expect(resolved.credentialSource.description == "profile 'default' (static keys in \(home.credentialsPath))")
        #expect(try await resolved.context.credentialProvider.credentials().accessKeyId == "AKIADEFAULT")
    }

    @Test func awsProfileChoosesTheProfileButEnvironmentKeysStillWin() async throws {
        let home = try FakeHome(credentials: Self.defaultProfile)
        let chosen = try await resolve(home.input(["AWS_PROFILE": "other"]))
        #expect(try await chosen.context.credentialProvider.credentials().accessKeyId == "AKIAOTHER")

        let withKeys = try await resolve(home.input(Self.envKeys.merging(["AWS_PROFILE": "other"]) { $1 }))
        #expect(try await withKeys.context.credentialProvider.credentials().accessKeyId == "AKIAENV")
    }

    @Test func profileFlagBeatsEnvironmentKeys() async throws {
        let home = try FakeHome(credentials: Self.defaultProfile)
        let env = Self.envKeys.merging(Self.userKeys) { $1 }.merging(["AWS_PROFILE": "default"]) { $1 }
        let resolved = try await resolve(home.input(env, profile: "other"))
        #expect(resolved.credentialSource.description == "profile 'other' (static keys in \(home.credentialsPath))")
        #expect(try await resolved.context.credentialProvider.credentials().accessKeyId == "AKIAOTHER")
    }

    @Test func profileFlagWithoutCredentialSettingsFallsThroughToTheEnvironment() async throws {
        let home = try FakeHome(config: "[profile regional]\nregion = eu-west-1\n")
        let resolved = try await resolve(home.input(Self.envKeys.merging(["AWS_REGION": ""]) { $1 }, profile: "regional"))
        #expect(resolved.credentialSource.description == "environment variables (AWS_ACCESS_KEY_ID)")
        #expect(resolved.context.region == "eu-west-1")
    }

    @Test func ecsIsChosenBeforeIMDSWithoutAnyRequest() async throws {
        let home = try FakeHome()
        // IMDS enabled (pointing at a dead port) but never asked: ECS comes first, and nothing is fetched yet.
        let env = Self.ecs.merging(["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"]) { $1 }
        let resolved = try await resolve(home.input(env))
        #expect(resolved.credentialSource.description == "ECS container credentials (http://127.0.0.1:9/creds)")
    }

    @Test func imdsIsTheLastResort() async throws {
        let home = try FakeHome()
        let env = ["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"]
        let resolved = try await resolve(home.input(env))
        #expect(resolved.credentialSource.description == "EC2 instance metadata (IMDSv2) at http://127.0.0.1:9")
    }

    @Test func nothingFoundListsEveryPlaceLooked() async throws {
        let home = try FakeHome()
        let error = try #require(await resolutionError(home.input()))
        let searched = try #require(error.missingCredentialsSearched)
        #expect(searched.count == 6)
        #expect(searched[0].contains("AWS_ACCESS_KEY_ID"))
        #expect(searched[1].contains("AWS_IAM_USER_ACCESS_KEY_ID"))
        #expect(searched[2].contains("AWS_WEB_IDENTITY_TOKEN_FILE"))
        #expect(searched[3].contains(home.configPath) && searched[3].contains(home.credentialsPath))
        #expect(searched[3].contains("'default'"))
        #expect(searched[4].contains("AWS_CONTAINER_CREDENTIALS"))
        #expect(searched[5].contains("AWS_EC2_METADATA_DISABLED"))
        #expect("\(error)".contains(home.credentialsPath))
    }

    @Test func oneKeyWithoutTheOtherNamesTheMissingVariable() async throws {
        let home = try FakeHome(credentials: Self.defaultProfile)
        let noSecret = try #require(await resolutionError(home.input(["AWS_ACCESS_KEY_ID": "AKIAENV"])))
        #expect("\(noSecret)".contains("AWS_SECRET_ACCESS_KEY is set") == false)
        #expect("\(noSecret)".contains("AWS_SECRET_ACCESS_KEY is not"))

        let noKeyId = try #require(await resolutionError(home.input(["AWS_SECRET_ACCESS_KEY": "env-secret"])))
        #expect("\(noKeyId)".contains("AWS_ACCESS_KEY_ID is not"))
        #expect(!"\(noKeyId)".contains("env-secret"))

        let userHalf = try #require(await resolutionError(home.input(["AWS_IAM_USER_ACCESS_KEY_ID": "AKIAUSER"])))
        #expect("\(userHalf)".contains("AWS_IAM_USER_SECRET_ACCESS_KEY is not"))
    }

    @Test func webIdentityFileWithoutRoleArnIsAnError() async throws {
        let home = try FakeHome()
        let token = try home.file("token.jwt", "a.b.c")
        let error = try #require(await resolutionError(home.input(["AWS_WEB_IDENTITY_TOKEN_FILE": token])))
        #expect("\(error)".contains("AWS_ROLE_ARN"))
    }

    @Test func explicitlyNamedProfileThatDoesNotExistListsTheProfiles() async throws {
        let home = try FakeHome(
            config: "[profile dev]\nregion = eu-west-1\n[staging]\nregion = us-west-2\n",
            credentials: Self.defaultProfile)
        let flag = try #require(await resolutionError(home.input(profile: "prod")))
        let text = "\(flag)"
        #expect(text.contains("'prod'") && text.contains("--profile"))
        #expect(text.contains("default, dev, other"))
        #expect(text.contains(home.configPath))

        // AWS_PROFILE naming a missing profile is an error even when the environment has keys (as in the CLI).
        let env = try #require(await resolutionError(home.input(Self.envKeys.merging(["AWS_PROFILE": "prod"]) { $1 })))
        #expect("\(env)".contains("AWS_PROFILE"))

        // A config-file section without the `profile ` prefix is pointed out.
        let stray = try #require(await resolutionError(home.input(profile: "staging")))
        #expect("\(stray)".contains("[profile staging]"))
    }

    @Test func missingDefaultProfileIsNotAnError() async throws {
        let home = try FakeHome(credentials: "[other]\naws_access_key_id = A\naws_secret_access_key = B\n")
        let resolved = try await resolve(home.input(Self.envKeys))
        #expect(resolved.credentialSource.description == "environment variables (AWS_ACCESS_KEY_ID)")
    }

    @Test func malformedFilesAreReportedWhenTheyAreNeededOnly() async throws {
        let home = try FakeHome(config: "[default]\nregion = us-east-1\nnot a property\n")
        // Keys and region from the environment: the broken file is never read.
        _ = try await resolve(home.input(Self.envKeys))

        let error = try #require(await resolutionError(home.input()))
        guard case .malformedConfigFile(let path, let line, _) = error else {
            Issue.record("expected malformedConfigFile, got \(error)")
            return
        }
        #expect(path == home.configPath)
        #expect(line == 3)
    }

    @Test func configAndCredentialsFilesFromTheEnvironment() async throws {
        let home = try FakeHome()
        let credentials = try home.file("elsewhere-credentials", "[ci]\naws_access_key_id = AKIACI\naws_secret_access_key = s\n")
        let resolved = try await resolve(
            home.input([
                "AWS_SHARED_CREDENTIALS_FILE": credentials, "AWS_PROFILE": "ci",
                "AWS_CONFIG_FILE": "~/nowhere"
            ]))
        #expect(resolved.credentialSource.description == "profile 'ci' (static keys in \(credentials))")
    }
}
