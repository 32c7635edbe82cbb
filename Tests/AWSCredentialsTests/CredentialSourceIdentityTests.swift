import AWSCore
import AWSCredentials
import Foundation
import SigV4
import Testing

/// The structured credential source: what the login cache keys on. Resolution needs no network, so each case
/// resolves twice and compares identities.
@Suite struct CredentialSourceIdentityTests {
    static let role = "arn:aws:iam::123456789012:role/deploy"

    static func containerise(key: String = "AKIAUSER", secret: String = "user-secret", role: String = role) -> [String: String] {
        isolated(["AWS_IAM_USER_ACCESS_KEY_ID": key, "AWS_IAM_USER_SECRET_ACCESS_KEY": secret, "AWS_IAM_ROLE_ARN": role])
    }

    func identity(_ input: AWSResolutionInput) async throws -> String {
        let source = try await resolve(input).credentialSource
        return try #require(source.cacheIdentity, "\(source) should be named without AWS")
    }

    @Test func containeriseRoleIsNamedByRoleAndKey() async throws {
        let home = try FakeHome()
        let right = try await identity(home.input(Self.containerise()))
        #expect(right.contains(Self.role))
        #expect(!right.contains("AKIAUSER") && !right.contains("user-secret"))
        #expect(try await identity(home.input(Self.containerise())) == right, "stable across runs")
        #expect(try await identity(home.input(Self.containerise(secret: "wrong-secret"))) != right)
        #expect(try await identity(home.input(Self.containerise(key: "AKIAOTHER"))) != right)
        #expect(try await identity(home.input(Self.containerise(role: "arn:aws:iam::123456789012:role/other"))) != right)
    }

    @Test func profileRoleChainEndingInStaticKeysIsNamedByTheKey() async throws {
        func home(secret: String) throws -> FakeHome {
            try FakeHome(
                config: """
                    [profile dev]
                    role_arn = \(Self.role)
                    source_profile = middle
                    [profile middle]
                    role_arn = arn:aws:iam::123456789012:role/middle
                    source_profile = base
                    """, credentials: "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = \(secret)\n")
        }
        let right = try home(secret: "base-secret")
        let rightIdentity = try await identity(right.input(profile: "dev"))
        #expect(rightIdentity.contains(Self.role) && rightIdentity.contains("role/middle"))
        #expect(!rightIdentity.contains("AKIABASE") && !rightIdentity.contains("base-secret"))
        let wrong = try home(secret: "wrong")
        #expect(try await identity(wrong.input(profile: "dev")) != rightIdentity)
    }

    @Test func profileStaticKeysWithRoleArnAreNamedByTheKey() async throws {
        func home(key: String) throws -> FakeHome {
            try FakeHome(
                config: "[profile dev]\nrole_arn = \(Self.role)\nsource_profile = dev\n",
                credentials: "[dev]\naws_access_key_id = \(key)\naws_secret_access_key = s\n")
        }
        let (one, two) = (try home(key: "AKIAONE"), try home(key: "AKIATWO"))
        #expect(try await identity(one.input(profile: "dev")) != (try await identity(two.input(profile: "dev"))))
    }

    /// The description is derived from the structure; the identity does not depend on it.
    @Test func descriptionRewordingCannotChangeTheIdentity() async throws {
        let key = KeyIdentity(Credentials(accessKeyId: "AKIAUSER", secretAccessKey: "s"))
        let a = CredentialSource.assumedRole(
            roleArn: Self.role, origin: .containeriseVariable,
            base: .environmentKeys(variable: "AWS_IAM_USER_ACCESS_KEY_ID", key: key))
        let b = CredentialSource.assumedRole(
            roleArn: Self.role, origin: .flag,
            base: .environmentKeys(variable: "AWS_ACCESS_KEY_ID", key: key))
        #expect(a.description != b.description)
        #expect(a.cacheIdentity == b.cacheIdentity, "the same role assumed with the same key is the same principal")
        #expect(a.description == "environment variables (AWS_IAM_USER_ACCESS_KEY_ID, role \(Self.role) via AWS_IAM_ROLE_ARN)")
    }

    /// Temporary keys used directly, credential_process, container and instance roles: only AWS can name them.
    @Test func sourcesOnlyAWSCanName() {
        let session = KeyIdentity(Credentials(accessKeyId: "ASIATEMP", secretAccessKey: "s", sessionToken: "t"))
        #expect(!session.isLongTerm)
        #expect(CredentialSource.environmentKeys(variable: "AWS_ACCESS_KEY_ID", key: session).cacheIdentity == nil)
        #expect(CredentialSource.credentialProcess(profile: "p").cacheIdentity == nil)
        #expect(CredentialSource.containerEndpoint(url: "http://169.254.170.2/x").cacheIdentity == nil)
        #expect(CredentialSource.instanceMetadata(endpoint: "http://169.254.169.254").cacheIdentity == nil)
        // As the base of a role, even a session key names the principal (a new session is a new base).
        let viaSession = CredentialSource.assumedRole(
            roleArn: Self.role, origin: .flag,
            base: .environmentKeys(variable: "AWS_ACCESS_KEY_ID", key: session))
        #expect(viaSession.cacheIdentity?.contains(session.name) == true)
    }

    @Test func webIdentityNamesItsTokenFile() async throws {
        let home = try FakeHome()
        let token = try home.file("token.jwt", "eyJ.header.sig")
        let resolved = try await resolve(home.input(["AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": Self.role]))
        #expect(resolved.credentialSource.webIdentityTokenFile == token)
        #expect(resolved.credentialSource.cacheIdentity?.contains(Self.role) == true)
        let chained = try await resolve(
            home.input(
                ["AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": Self.role],
                roleArn: "arn:aws:iam::123456789012:role/other"))
        #expect(chained.credentialSource.webIdentityTokenFile == token, "a role assumed on top still depends on the token")
    }
}
