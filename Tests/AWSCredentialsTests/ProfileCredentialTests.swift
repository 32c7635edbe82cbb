import AWSCore
import AWSCredentials
import Foundation
import SigV4
import Testing

/// Every profile form of the shared files. Role profiles are resolved (validated, described) without network.
@Suite struct ProfileCredentialTests {
    static let role = "arn:aws:iam::123456789012:role/deploy"
    static let role2 = "arn:aws:iam::123456789012:role/second"

    @Test func staticKeysWithSessionToken() async throws {
        let home = try FakeHome(
            config: """
                [profile temp]
                aws_access_key_id = ASIATEMP
                aws_secret_access_key = temp-secret
                aws_session_token = temp-token
                """)
        let resolved = try await resolve(home.input(profile: "temp"))
        #expect(resolved.credentialSource.description == "profile 'temp' (static keys in \(home.configPath))")
        let credentials = try await resolved.context.credentialProvider.credentials()
        #expect(credentials == Credentials(accessKeyId: "ASIATEMP", secretAccessKey: "temp-secret", sessionToken: "temp-token"))
    }

    @Test func credentialsFileKeysWinOverConfigFile() async throws {
        let home = try FakeHome(
            config: "[profile dev]\naws_access_key_id = OLD\naws_secret_access_key = old\n",
            credentials: "[dev]\naws_access_key_id = NEW\naws_secret_access_key = new\n")
        let resolved = try await resolve(home.input(profile: "dev"))
        #expect(try await resolved.context.credentialProvider.credentials().accessKeyId == "NEW")
    }

    @Test func keyIdWithoutSecretNamesProfileAndKey() async throws {
        let home = try FakeHome(credentials: "[dev]\naws_access_key_id = AKIA\n")
        let error = try #require(await resolutionError(home.input(profile: "dev")))
        #expect("\(error)".contains("profile 'dev'"))
        #expect("\(error)".contains("no aws_secret_access_key"))
        #expect("\(error)".contains(home.credentialsPath))
    }

    @Test func roleWithSourceProfile() async throws {
        let home = try FakeHome(
            config: """
                [profile dev]
                role_arn = \(Self.role)
                source_profile = base
                external_id = ext-123
                role_session_name = my-session
                duration_seconds = 1800
                """, credentials: "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n")
        let resolved = try await resolve(home.input(profile: "dev"))
        #expect(resolved.credentialSource.description == "profile 'dev' (role \(Self.role) via source_profile 'base')")
    }

    @Test func roleChainsOfAnyDepth() async throws {
        let home = try FakeHome(
            config: """
                [profile a]
                role_arn = \(Self.role)
                source_profile = b
                [profile b]
                role_arn = \(Self.role2)
                source_profile = c
                [profile c]
                role_arn = \(Self.role2)
                source_profile = d
                """, credentials: "[d]\naws_access_key_id = AKIAD\naws_secret_access_key = d-secret\n")
        let resolved = try await resolve(home.input(profile: "a"))
        #expect(resolved.credentialSource.description == "profile 'a' (role \(Self.role) via source_profile 'b')")
    }

    @Test func sourceProfileMayBeItselfWhenItHasStaticKeys() async throws {
        let home = try FakeHome(
            credentials: """
                [self]
                aws_access_key_id = AKIASELF
                aws_secret_access_key = self-secret
                role_arn = \(Self.role)
                source_profile = self
                """)
        let resolved = try await resolve(home.input(profile: "self"))
        #expect(resolved.credentialSource.description == "profile 'self' (role \(Self.role) via source_profile 'self')")
    }

    @Test func selfReferenceWithoutKeysIsACycle() async throws {
        let home = try FakeHome(config: "[profile loop]\nrole_arn = \(Self.role)\nsource_profile = loop\n")
        let error = try #require(await resolutionError(home.input(profile: "loop")))
        #expect("\(error)".contains("cycle: 'loop' -> 'loop'"))
    }

    @Test func cyclesAreNamed() async throws {
        let home = try FakeHome(
            config: """
                [profile a]
                role_arn = \(Self.role)
                source_profile = b
                [profile b]
                role_arn = \(Self.role)
                source_profile = c
                [profile c]
                role_arn = \(Self.role)
                source_profile = a
                """)
        let error = try #require(await resolutionError(home.input(profile: "a")))
        #expect("\(error)".contains("cycle: 'a' -> 'b' -> 'c' -> 'a'"))
    }

    @Test func sourceProfileStaticKeysWinOverItsOwnRole() async throws {
        // As in botocore: a source profile with keys lends its keys; its own role_arn is not followed.
        let home = try FakeHome(
            credentials: """
                [a]
                role_arn = \(Self.role)
                source_profile = b
                [b]
                aws_access_key_id = AKIAB
                aws_secret_access_key = b-secret
                role_arn = \(Self.role2)
                source_profile = a
                """)
        let resolved = try await resolve(home.input(profile: "a"))
        #expect(resolved.credentialSource.description == "profile 'a' (role \(Self.role) via source_profile 'b')")
    }

    @Test func missingSourceProfile() async throws {
        let home = try FakeHome(config: "[profile dev]\nrole_arn = \(Self.role)\nsource_profile = ghost\n[default]\n")
        let error = try #require(await resolutionError(home.input(profile: "dev")))
        #expect("\(error)".contains("source_profile 'ghost'"))
        #expect("\(error)".contains("does not exist"))
    }

    @Test func sourceProfileWithoutCredentials() async throws {
        let home = try FakeHome(config: "[profile dev]\nrole_arn = \(Self.role)\nsource_profile = empty\n[profile empty]\nregion = us-east-1\n")
        let error = try #require(await resolutionError(home.input(profile: "dev")))
        #expect("\(error)".contains("profile 'empty'"))
        #expect("\(error)".contains("has no credentials"))
    }

    @Test func credentialSourceEnvironment() async throws {
        let home = try FakeHome(config: "[profile dev]\nrole_arn = \(Self.role)\ncredential_source = Environment\n")
        let env = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"]
        let resolved = try await resolve(home.input(env, profile: "dev"))
        #expect(resolved.credentialSource.description == "profile 'dev' (role \(Self.role) via credential_source Environment)")

        let missing = try #require(await resolutionError(home.input(profile: "dev")))
        #expect("\(missing)".contains("credential_source = Environment"))
    }

    @Test func credentialSourceContainerAndInstance() async throws {
        let home = try FakeHome(
            config: """
                [profile ecs]
                role_arn = \(Self.role)
                credential_source = EcsContainer
                [profile ec2]
                role_arn = \(Self.role)
                credential_source = Ec2InstanceMetadata
                [profile bad]
                role_arn = \(Self.role)
                credential_source = Laptop
                """)
        let ecsEnv = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds"]
        #expect(try await resolve(home.input(ecsEnv, profile: "ecs")).credentialSource.description.contains("credential_source EcsContainer"))
        let noECS = try #require(await resolutionError(home.input(profile: "ecs")))
        #expect("\(noECS)".contains("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))

        let imdsOn = ["AWS_EC2_METADATA_DISABLED": "false"]
        #expect(try await resolve(home.input(imdsOn, profile: "ec2")).credentialSource.description.contains("credential_source Ec2InstanceMetadata"))
        let imdsOff = try #require(await resolutionError(home.input(profile: "ec2")))
        #expect("\(imdsOff)".contains("AWS_EC2_METADATA_DISABLED"))

        let bad = try #require(await resolutionError(home.input(profile: "bad")))
        #expect("\(bad)".contains("Environment, Ec2InstanceMetadata or EcsContainer"))
    }

    @Test func roleWithoutAWayToGetSourceCredentials() async throws {
        let home = try FakeHome(
            config: """
                [profile none]
                role_arn = \(Self.role)
                [profile both]
                role_arn = \(Self.role)
                source_profile = none
                credential_source = Environment
                """)
        #expect("\(try #require(await resolutionError(home.input(profile: "none"))))".contains("no source_profile, credential_source"))
        #expect("\(try #require(await resolutionError(home.input(profile: "both"))))".contains("both source_profile and credential_source"))
    }

    @Test func invalidRoleArnDurationAndSessionName() async throws {
        let home = try FakeHome(
            config: """
                [profile arn]
                role_arn = arn:aws:iam::123:user/bob
                credential_source = Environment
                [profile duration]
                role_arn = \(Self.role)
                credential_source = Environment
                duration_seconds = 60
                [profile session]
                role_arn = \(Self.role)
                credential_source = Environment
                role_session_name = has spaces
                """)
        let env = ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"]
        #expect("\(try #require(await resolutionError(home.input(env, profile: "arn"))))".contains("role_arn of profile 'arn'"))
        #expect("\(try #require(await resolutionError(home.input(env, profile: "duration"))))".contains("duration_seconds"))
        #expect("\(try #require(await resolutionError(home.input(env, profile: "session"))))".contains("role_session_name"))
    }

    @Test func mfaSerialNeedsATokenCode() async throws {
        let home = try FakeHome(
            config: """
                [profile mfa]
                role_arn = \(Self.role)
                source_profile = base
                mfa_serial = arn:aws:iam::123456789012:mfa/me
                [profile base]
                aws_access_key_id = AKIABASE
                aws_secret_access_key = base-secret
                """)
        let error = try #require(await resolutionError(home.input(profile: "mfa")))
        #expect("\(error)".contains("--mfa-token-code"))
        #expect("\(error)".contains("arn:aws:iam::123456789012:mfa/me"))

        var input = home.input(profile: "mfa")
        input.mfaTokenCode = "123456"
        #expect(try await resolve(input).credentialSource.description.contains("role \(Self.role)"))
    }

    @Test func webIdentityProfile() async throws {
        let home = try FakeHome(
            config: """
                [profile oidc]
                role_arn = \(Self.role)
                web_identity_token_file = ~/token.jwt
                role_session_name = gha
                [profile oidc-no-role]
                web_identity_token_file = ~/token.jwt
                """)
        let resolved = try await resolve(home.input(profile: "oidc"))
        #expect(resolved.credentialSource.description == "profile 'oidc' (web identity token file \(home.path)/token.jwt, role \(Self.role))")
        #expect("\(try #require(await resolutionError(home.input(profile: "oidc-no-role"))))".contains("no role_arn"))
    }

    @Test func ssoProfilesAreRefusedWithAWorkaround() async throws {
        let home = try FakeHome(
            config: """
                [profile sso]
                sso_session = corp
                sso_account_id = 123456789012
                sso_role_name = Admin
                [profile sso-exported]
                sso_start_url = https://corp.awsapps.com/start
                credential_process = printf '{"Version": 1, "AccessKeyId": "AKIAPROC", "SecretAccessKey": "s"}'
                """)
        let error = try #require(await resolutionError(home.input(profile: "sso")))
        #expect("\(error)".contains("not support"))
        #expect("\(error)".contains("credential_process"))
        // With credential_process beside the sso_* keys, the process is used.
        let exported = try await resolve(home.input(profile: "sso-exported"))
        #expect(try await exported.context.credentialProvider.credentials().accessKeyId == "AKIAPROC")
    }

    @Test func roleArnFlagIsAssumedOnTopAndValidatedFirst() async throws {
        let home = try FakeHome(credentials: "[default]\naws_access_key_id = A\naws_secret_access_key = B\n")
        let resolved = try await resolve(home.input(roleArn: Self.role))
        #expect(
            resolved.credentialSource.description
                == "role \(Self.role) (--role-arn) assumed with profile 'default' (static keys in \(home.credentialsPath))")

        let bad = try #require(await resolutionError(home.input(roleArn: "arn:aws:iam::12:role/x")))
        guard case .invalidParameter(let name, _, _) = bad else {
            Issue.record("expected invalidParameter, got \(bad)")
            return
        }
        #expect(name == "--role-arn")
    }
}
