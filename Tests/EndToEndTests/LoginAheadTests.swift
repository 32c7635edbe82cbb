import Foundation
import TestWorld
import Testing

/// `push` starts its ECR login while its command line is read, from the environment alone, once the Engine's
/// socket answers; its own login then takes those answers (moto counts every action).
@Suite struct LoginAheadTests {
    typealias World = BuildAndPushTests.World

    @Test func aPushLogsInOnce() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let result = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", BuildAndPushTests.uniqueName("ahead"), "--tag", "v1", "--create-repository"],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let counts = try await world.moto.counts()
        #expect(counts["AssumeRole"] == 1, "\(counts)")
        #expect(counts["GetAuthorizationToken"] == 1, "\(counts)")
        // The repository looked up beside the login; missing, it is created without asking again.
        #expect(counts["DescribeRepositories"] == 1, "\(counts)")
        #expect(counts["CreateRepository"] == 1, "\(counts)")
    }

    /// STS and ECR are two hosts on AWS: ECR's connections are opened while the role is assumed (an unsigned
    /// `GET /` each, before any request could be signed), and the calls sent once the role's credentials are there
    /// (the login's GetAuthorizationToken, the repository's lookup) go over them.
    /// ECR here is moto behind a proxy that logs which connection carried each request. The same with the login left
    /// to the command (`ECRPUSH_LOGIN_AHEAD=0`).
    @Test(arguments: [true, false])
    func ecrConnectionsOpenWhileTheRoleIsAssumed(loginAhead: Bool) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let proxy = try await FaultProxy.start(for: world.moto)
        defer { proxy.stop() }
        let environment = world.environment.merging(
            ["AWS_ENDPOINT_URL_ECR": "http://\(proxy.hostPort)", "ECRPUSH_LOGIN_AHEAD": loginAhead ? "1" : "0"]) { $1 }
        let result = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", BuildAndPushTests.uniqueName("ecr-warm"), "--tag", "v1", "--create-repository"],
            environment: environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let seen = try await proxy.seen()
        let described = seen.map { "\($0.method) \($0.path) \($0.target ?? "-") \($0.connection ?? 0)" }
        let opened = seen.filter { $0.method == "GET" && $0.path == "/" && !$0.authorization }
        #expect((1...2).contains(opened.count), "\(described)")
        let warm = Set(opened.compactMap(\.connection))
        let login = seen.filter { $0.target?.hasSuffix(".GetAuthorizationToken") == true }
        #expect(login.count == 1, "\(described)")
        // Sent together once the role's credentials are there: the login and the repository's lookup.
        let first = seen.filter { $0.target?.hasSuffix(".GetAuthorizationToken") == true || $0.target?.hasSuffix(".DescribeRepositories") == true }
        #expect(first.contains { $0.authorization && $0.connection.map(warm.contains) == true }, "\(described)")
        #expect(try await world.moto.counts()["AssumeRole"] == 1)
    }

    /// moto refuses the first GetAuthorizationToken, or the first DescribeRepositories (503), and the push may not
    /// retry (AWS_MAX_ATTEMPTS=1). The refused one is the request started ahead: the push sends its own and
    /// succeeds, and the early failure is not its error. A push that starts nothing ahead (flags that change the
    /// login, --debug) meets the 503 itself.
    @Test(arguments: ["GetAuthorizationToken", "DescribeRepositories"], [[], ["--region", "us-east-1"], ["--debug"]])
    func theLoginStartsBeforeTheCommandLineIsRead(refused action: String, flags: [String]) async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry, extraArgs: ["--fault", "\(action):5xx:1"])
        defer { moto.stop() }
        let world = World(registry: registry, docker: try await DockerDaemon.shared(), moto: moto)
        try #require(moto.region == "us-east-1")
        let result = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", BuildAndPushTests.uniqueName("ahead"), "--tag", "v1", "--create-repository"]
                + flags,
            environment: world.environment.merging(["AWS_MAX_ATTEMPTS": "1"]) { $1 })
        let counts = try await moto.counts()
        if flags.isEmpty {
            #expect(result.status == 0, "\(result.combinedText)")
            #expect(counts[action] == 2, "\(counts)")
            #expect(counts["AssumeRole"] == 1, "\(counts)")
        } else {
            #expect(result.status == 1, "\(result.combinedText)")
            #expect(result.stderrText.contains("ServiceUnavailable"), "\(result.stderrText)")
            #expect(counts[action] == 1, "\(counts)")
        }
    }
}
