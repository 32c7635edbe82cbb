import ECR
import ECRLogin
import Foundation
import TestWorld
import Testing

@Suite struct TokenCacheTests {
    static let key = TokenCacheKey(
        partition: "aws", region: "us-east-1", registryId: "123456789012",
        principal: "environment variables (AWS_IAM_USER_ACCESS_KEY_ID, role arn:aws:iam::123456789012:role/r via AWS_IAM_ROLE_ARN)",
        endpoint: "https://api.ecr.us-east-1.amazonaws.com")

    static func login(password: String = "pw", expiresIn seconds: TimeInterval, from now: Date = Date()) -> RegistryLogin {
        RegistryLogin(
            RegistryAuthorization(
                username: "AWS", password: password,
                proxyEndpoint: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
                expiresAt: now.addingTimeInterval(seconds)))
    }

    @Test func aHitNeedsNoFetchAndAMissFetchesOnce() async throws {
        let directory = TemporaryDirectory()
        let cache = TokenCache(directory: directory.path + "/ecrpush")
        let first = try await cache.login(for: Self.key) { Self.login(password: "one", expiresIn: 12 * 3600) }
        #expect(!first.fromCache && first.login.password == "one")
        let second = try await cache.login(for: Self.key) {
            Issue.record("a fresh cached login must not be fetched again")
            return Self.login(password: "two", expiresIn: 12 * 3600)
        }
        #expect(second.fromCache && second.login.password == "one")
    }

    @Test func aLoginIsUsedOnlyWhileMoreThanTheMarginRemains() throws {
        let directory = TemporaryDirectory()
        let cache = TokenCache(directory: directory.path, margin: 30 * 60)
        let now = Date()
        try cache.store(Self.login(expiresIn: 31 * 60, from: now), for: Self.key)
        #expect(cache.lookup(Self.key, now: now) != nil)
        #expect(cache.lookup(Self.key, now: now.addingTimeInterval(2 * 60)) == nil, "29 minutes left: inside the margin")
        #expect(cache.lookup(Self.key, now: now.addingTimeInterval(3600)) == nil, "expired")
        let noMargin = TokenCache(directory: directory.path, margin: 0)
        #expect(noMargin.lookup(Self.key, now: now.addingTimeInterval(30 * 60)) != nil)
        #expect(noMargin.lookup(Self.key, now: now.addingTimeInterval(31 * 60 + 1)) == nil, "never after expiry")
    }

    @Test func aFailedRefreshIsAnErrorNotAStaleLogin() async throws {
        struct Refused: Error {}
        let directory = TemporaryDirectory()
        let cache = TokenCache(directory: directory.path)
        try cache.store(Self.login(password: "stale", expiresIn: 60), for: Self.key)
        await #expect(throws: Refused.self) {
            _ = try await cache.login(for: Self.key) { throw Refused() }
        }
    }

    @Test func filesArePrivateAndDirectoryIs0700() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/cache/ecrpush"
        let cache = TokenCache(directory: path)
        try cache.store(Self.login(expiresIn: 3600), for: Self.key)
        let directoryMode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(directoryMode == 0o700)
        let files = try FileManager.default.contentsOfDirectory(atPath: path)
        #expect(files == [Self.key.fileName], "no temporary file is left behind")
        let fileMode = try FileManager.default.attributesOfItem(atPath: path + "/" + Self.key.fileName)[.posixPermissions] as? Int
        #expect(fileMode == 0o600)
        #expect(!Self.key.fileName.contains("role"), "the file name does not show the principal")
        #expect(try cache.clear() == 1)
        #expect(cache.lookup(Self.key) == nil)
    }

    @Test func keysDifferByEveryPartAndStayStable() {
        let base = Self.key
        #expect(
            base.fileName
                == TokenCacheKey(
                    partition: "aws", region: "us-east-1", registryId: "123456789012",
                    principal: base.principal, endpoint: base.endpoint
                ).fileName)
        var other = base
        other.registryId = "444455556666"
        #expect(other.fileName != base.fileName)
        other = base
        other.region = "eu-west-1"
        #expect(other.fileName != base.fileName)
        other = base
        other.principal = "profile 'prod' (role arn:aws:iam::123456789012:role/other via source_profile 'base')"
        #expect(other.fileName != base.fileName)
    }

    @Test func environmentSwitches() {
        #expect(TokenCache.fromEnvironment(["ECRPUSH_NO_CACHE": "1"], homeDirectory: "/h") == nil)
        #expect(TokenCache.fromEnvironment([:], homeDirectory: "/h")?.directory == "/h/.cache/ecrpush")
        #expect(TokenCache.fromEnvironment(["XDG_CACHE_HOME": "/x"], homeDirectory: "/h")?.directory == "/x/ecrpush")
        #expect(TokenCache.fromEnvironment(["ECRPUSH_CACHE_MARGIN": "60"], homeDirectory: "/h")?.margin == 60)
        #expect(TokenCache.fromEnvironment([:], homeDirectory: "/h")?.margin == TokenCache.defaultMargin)
        #expect(TokenCache.defaultMargin == 1800)
    }
}
