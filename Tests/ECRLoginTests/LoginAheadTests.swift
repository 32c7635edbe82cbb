import AWSCore
import AWSCredentials
import ECR
import ECRLogin
import Foundation
import HTTPTransport
import TestWorld
import Testing

/// The login a push starts while its command line is read (`LoginWorkflow.startAhead`), against moto, which
/// checks every signature and counts every action: the push's own login takes the early answers when it makes the
/// same requests, and sends its own when anything differs.
@Suite struct LoginAheadTests {
    /// containerise.py's variables, with no config file or instance metadata of this machine's.
    static func containeriseEnvironment(_ moto: MotoWorld) -> [String: String] {
        moto.containeriseEnvironment.merging([
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true"
        ]) { $1 }
    }

    /// The push's login as `push` makes it, in `store`.
    static func login(_ input: AWSResolutionInput, store: RequestsAhead) async throws -> [RegistryLogin] {
        try await RequestsAhead.$current.withValue(store) {
            let resolved = try await AWSResolver.resolve(input, http: HTTPClient(), debug: nil)
            return try await LoginWorkflow.logins(ecr: ECRClient(context: resolved.context), registryIds: [])
        }
    }

    /// ECR's connections open beside the role's fetch only: a login in another region with the role's credentials
    /// fetched already (a base's registry, read by the push) opens none, as its GetAuthorizationToken goes at once.
    @Test func ecrsConnectionsOpenOnlyWhileTheCredentialsAreFetched() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let input = AWSResolutionInput(environment: Self.containeriseEnvironment(moto), homeDirectory: "/nonexistent")
        let resolved = try await AWSResolver.resolve(input, http: HTTPClient(), debug: nil)
        #expect(await LoginWorkflow.openECRConnections(for: resolved, count: 1))
        _ = try await resolved.context.credentialProvider.credentials()
        var inRegion = resolved
        inRegion.context = resolved.context.with(region: "eu-west-1")
        #expect(await !LoginWorkflow.openECRConnections(for: inRegion, count: 1))
    }

    @Test func theSameLoginIsMadeOnce() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let input = AWSResolutionInput(environment: Self.containeriseEnvironment(moto), homeDirectory: "/nonexistent")
        let store = RequestsAhead()
        LoginWorkflow.startAhead(input, into: store)
        let logins = try await Self.login(input, store: store)
        #expect(logins.first?.username == "AWS")
        #expect(logins.first?.password.isEmpty == false)
        let counts = try await moto.counts()
        #expect(counts["AssumeRole"] == 1, "\(counts)")
        #expect(counts["GetAuthorizationToken"] == 1, "\(counts)")
        #expect(!store.holdsAny, "both answers were taken")
    }

    /// The repository the command line names is looked up beside GetAuthorizationToken. moto refuses the first
    /// DescribeRepositories (503) and no request may be retried: the early one meets the refusal, and the command's
    /// own look-up, sent then, gets the answer. A look-up not sent ahead would have met the 503 itself.
    @Test func theRepositoryIsLookedUpAhead() async throws {
        let moto = try await MotoWorld.start(extraArgs: ["--fault", "DescribeRepositories:5xx:1"])
        defer { moto.stop() }
        var environment = Self.containeriseEnvironment(moto)
        environment["AWS_MAX_ATTEMPTS"] = "1"
        let input = AWSResolutionInput(environment: environment, homeDirectory: "/nonexistent")
        let store = RequestsAhead()
        LoginWorkflow.startAhead(input, repository: "team/ahead", into: store)
        let found = try await RequestsAhead.$current.withValue(store) {
            let resolved = try await AWSResolver.resolve(input, http: HTTPClient(), debug: nil)
            return try await ECRClient(context: resolved.context).findRepository("team/ahead")
        }
        #expect(found == nil, "moto has no such repository")
        let counts = try await moto.counts()
        #expect(counts["DescribeRepositories"] == 2, "\(counts)")
        #expect(counts["AssumeRole"] == 1, "\(counts)")
    }

    /// A missing repository is a definite answer: the command takes the early RepositoryNotFoundException as its
    /// own instead of asking again (a push that creates its repository asks once).
    @Test func aMissingRepositoryIsAskedOnce() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let input = AWSResolutionInput(environment: Self.containeriseEnvironment(moto), homeDirectory: "/nonexistent")
        let store = RequestsAhead()
        LoginWorkflow.startAhead(input, registryLogin: false, repository: "team/missing", into: store)
        let found = try await RequestsAhead.$current.withValue(store) {
            let resolved = try await AWSResolver.resolve(input, http: HTTPClient(), debug: nil)
            return try await ECRClient(context: resolved.context).findRepository("team/missing")
        }
        #expect(found == nil)
        let counts = try await moto.counts()
        #expect(counts["DescribeRepositories"] == 1, "\(counts)")
        #expect(!store.holdsAny, "the early answer was taken")
    }

    /// An existing repository: the early look-up's answer is the command's, and nothing is sent twice.
    @Test func theEarlyLookupIsTaken() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let input = AWSResolutionInput(environment: Self.containeriseEnvironment(moto), homeDirectory: "/nonexistent")
        let created = try await ECRClient(context: AWSResolver.resolve(input, http: HTTPClient(), debug: nil).context)
            .createRepository(name: "team/taken")
        try await moto.resetCounts()
        let store = RequestsAhead()
        LoginWorkflow.startAhead(input, repository: "team/taken", into: store)
        let (logins, found) = try await RequestsAhead.$current.withValue(store) {
            let resolved = try await AWSResolver.resolve(input, http: HTTPClient(), debug: nil)
            let ecr = ECRClient(context: resolved.context)
            async let lookup = ecr.findRepository("team/taken")
            return (try await LoginWorkflow.logins(ecr: ecr, registryIds: []), try await lookup)
        }
        #expect(logins.first?.username == "AWS")
        #expect(found?.repositoryArn == created.repositoryArn)
        let counts = try await moto.counts()
        #expect(counts["DescribeRepositories"] == 1, "\(counts)")
        #expect(counts["GetAuthorizationToken"] == 1, "\(counts)")
        #expect(!store.holdsAny, "every answer was taken")
    }

    /// The command line names another session for the role: another AssumeRole, so other credentials and another
    /// GetAuthorizationToken. The early answers stand in for neither.
    @Test func anotherRequestIsSentAgain() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let input = AWSResolutionInput(environment: Self.containeriseEnvironment(moto), homeDirectory: "/nonexistent")
        let store = RequestsAhead()
        LoginWorkflow.startAhead(input, into: store)
        var other = input
        other.roleSessionName = "OtherSession"
        let logins = try await Self.login(other, store: store)
        #expect(logins.first?.password.isEmpty == false)
        let counts = try await moto.counts()
        #expect(counts["AssumeRole"] == 2, "\(counts)")
        #expect(counts["GetAuthorizationToken"] == 2, "\(counts)")
    }

    /// Credentials from a profile file (or with no region in the environment) are left to the command: nothing
    /// is sent ahead.
    @Test func onlyTheEnvironmentsCredentialsStartEarly() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let home = TemporaryDirectory()
        let credentials = home.path + "/credentials"
        try "[default]\naws_access_key_id = \(moto.userAccessKeyId)\naws_secret_access_key = \(moto.userSecretAccessKey)\n"
            .write(toFile: credentials, atomically: true, encoding: .utf8)
        var profileEnvironment = moto.awsEnvironment(.user)
        profileEnvironment["AWS_ACCESS_KEY_ID"] = nil
        profileEnvironment["AWS_SECRET_ACCESS_KEY"] = nil
        profileEnvironment["AWS_SHARED_CREDENTIALS_FILE"] = credentials
        var noRegion = Self.containeriseEnvironment(moto)
        noRegion["AWS_REGION"] = nil
        let store = RequestsAhead()
        for environment in [profileEnvironment, noRegion] {
            LoginWorkflow.startAhead(AWSResolutionInput(environment: environment, homeDirectory: home.path), into: store)
        }
        // The early work is a resolution of files and variables: once nothing is expected any more, it is over.
        let deadline = ContinuousClock.now + .seconds(10)
        while store.holdsAny, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(!store.holdsAny)
        #expect(try await moto.counts().isEmpty, "no request was made")
    }
}
