import Foundation
import TestWorld
import Testing

/// Bad input is refused up front: exit 64, a message naming the flag or setting and what is expected, the value
/// never echoed whole, and no request at all. moto counts every request it receives, and DOCKER_HOST points at
/// no daemon (a Docker call first would fail with exit 1 and "cannot reach the Docker daemon").
@Suite struct BadInputTests {
    static let longRoleARN = "arn:aws:iam::123456789012:role/" + String(repeating: "a", count: 120_000 - 31)

    /// Every command that takes `--registry`, with `value`.
    static func registryCommands(_ value: String, context: String) -> [[String]] {
        [
            ["push", DockerDaemon.baseImage, "--repository", "app", "--tag", "v1", "--registry", value],
            ["build-and-push", context, "--repository", "app", "--tag", "v1", "--registry", value],
            ["login", "--registry", value],
            ["doctor", "--registry", value]
        ]
    }

    static func requestCount(_ moto: MotoWorld) async throws -> Int {
        try await moto.counts().values.reduce(0, +)
    }

    /// An argument error a few milliseconds after the start, while libcurl still loads on a thread of its own (a
    /// command that makes requests): exit 64 every time. OpenSSL's exit-time cleanup used to free its state under
    /// that thread: one exit in ten crashed (status 139) with a release build, and CI's debug build crashed so under
    /// load. A race, so this runs it 40 times; an idle debug build seldom loses it.
    @Test func anArgumentErrorWhileLibcurlLoadsExitsWith64EveryTime() async throws {
        var statuses: [Int32: Int] = [:]
        for _ in 0..<40 {
            let result = try await ECRPushCLI.run(["doctor", "--registry", "host:99999"], environment: [:])
            statuses[result.status, default: 0] += 1
        }
        #expect(statuses == [64: 40], "\(statuses)")
    }

    @Test func malformedRegistriesAreRefusedBeforeAnyRequest() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        try await moto.resetCounts()
        let context = TemporaryDirectory()
        try "FROM scratch\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let cases = [
            ("host:99999", "the port '99999' is not a number from 1 to 65535"), (":0", "the host is empty"),
            ("a b:5000", "whitespace"), ("https://r.example.com", "scheme"), ("r.example.com/v2", "path"),
            ("AWS@r.example.com", "user info"), ("host:" + String(repeating: "9", count: 3000), "3000 characters")
        ]
        for (value, problem) in cases {
            for arguments in Self.registryCommands(value, context: context.path) {
                let result = try await ECRPushCLI.run(arguments, environment: moto.containeriseEnvironment)
                let label = "\(arguments[0]) --registry \(value.prefix(40))"
                #expect(result.status == 64, "\(label): \(result.combinedText)")
                #expect(result.stderrText.contains("--registry"), "\(label): \(result.stderrText)")
                #expect(result.stderrText.contains(problem), "\(label): \(result.stderrText)")
                #expect(result.stderrText.contains("host[:port]"), "what is expected: \(result.stderrText)")
                #expect(result.stderrText.count < 1500, "\(label): the value is not echoed whole")
            }
        }
        #expect(try await Self.requestCount(moto) == 0, "no AWS request for a malformed --registry")

        // The control: a well-formed host goes on to AWS, and moto counts what it receives.
        let wellFormed = try await ECRPushCLI.run(
            ["login", "--registry", "\(moto.accountId).dkr.ecr.\(moto.region).amazonaws.com"], environment: moto.containeriseEnvironment)
        #expect(wellFormed.status == 0, "\(wellFormed.combinedText)")
        #expect(try await Self.requestCount(moto) > 0)
    }

    /// An alias whose registry_endpoint has no valid port: the config file and line are named.
    @Test func malformedRegistryEndpointOfAnAlias() async throws {
        let home = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: home.path + "/ecrpush", withIntermediateDirectories: true)
        try "[registry loop]\nregistry_endpoint = registry.example.com:99999\n"
            .write(toFile: home.path + "/ecrpush/config", atomically: true, encoding: .utf8)
        for arguments in Self.registryCommands("loop", context: home.path) {
            let result = try await ECRPushCLI.run(arguments, environment: ["XDG_CONFIG_HOME": home.path])
            #expect(result.status == 64, "\(arguments[0]): \(result.combinedText)")
            #expect(result.stderrText.contains(home.path + "/ecrpush/config:1"), "\(arguments[0]): \(result.stderrText)")
            #expect(result.stderrText.contains("registry_endpoint") && result.stderrText.contains("99999"), "\(result.stderrText)")
        }
    }

    /// AWS settings the SDKs refuse, each given to commands that would otherwise call AWS (and Docker) first.
    @Test func badAWSSettingsAreRefusedBeforeAnyRequest() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        try await moto.resetCounts()
        let home = TemporaryDirectory()
        let config = home.path + "/aws-config"
        try """
        [profile short]
        role_arn = \(moto.roleArn)
        source_profile = base
        duration_seconds = 60
        [profile base]
        aws_access_key_id = \(moto.userAccessKeyId)
        aws_secret_access_key = \(moto.userSecretAccessKey)
        [profile badarn]
        role_arn = arn:aws:iam::\(moto.accountId):user/not-a-role
        source_profile = base
        [profile badregion]
        region = EU-WEST-1
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let token = home.path + "/token"
        try "eyJhbGciOiJSUzI1NiJ9.e30.c2ln".write(toFile: token, atomically: true, encoding: .utf8)
        let base = moto.containeriseEnvironment
        let profileBase = ["AWS_CONFIG_FILE": config, "AWS_REGION": moto.region, "AWS_ENDPOINT_URL": moto.endpoint.absoluteString]
        let webIdentity = ["AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/a b"]
        let cases: [(String, [String], [String: String], String)] = [
            ("AWS_MAX_ATTEMPTS", [], base.merging(["AWS_MAX_ATTEMPTS": "abc"]) { $1 }, "AWS_MAX_ATTEMPTS 'abc'"),
            ("AWS_MAX_ATTEMPTS=0", [], base.merging(["AWS_MAX_ATTEMPTS": "0"]) { $1 }, "AWS_MAX_ATTEMPTS '0'"),
            ("AWS_RETRY_MODE", [], base.merging(["AWS_RETRY_MODE": "fast"]) { $1 }, "legacy, standard or adaptive"),
            (
                "AWS_IAM_ROLE_ARN", [], base.merging(["AWS_IAM_ROLE_ARN": Self.longRoleARN]) { $1 },
                "AWS_IAM_ROLE_ARN (120000 characters, starting \"arn:aws:iam::1234…\")"
            ),
            (
                "AWS_ROLE_ARN", [], webIdentity.merging(profileBase) { $1 },
                "AWS_ROLE_ARN 'arn:aws:iam::123456789012:role/a b'"
            ),
            ("role_arn", ["--profile", "badarn"], profileBase, "role_arn of profile 'badarn'"),
            ("duration_seconds", ["--profile", "short"], profileBase, "duration_seconds of profile 'short'"),
            ("profile region", ["--profile", "badregion"], profileBase.merging(["AWS_REGION": ""]) { $1 }, "'EU-WEST-1'"),
            ("AWS_REGION", [], base.merging(["AWS_REGION": "us east-1"]) { $1 }, "AWS_REGION) 'us east-1'"),
            ("AWS_DEFAULT_REGION", [], base.merging(["AWS_REGION": "", "AWS_DEFAULT_REGION": "us-east-1/x"]) { $1 }, "'us-east-1/x'"),
            ("--region", ["--region", "US-EAST-1"], base, "--region 'US-EAST-1'"),
            ("--role-arn", ["--role-arn", Self.longRoleARN], base, "--role-arn (120000 characters"),
            ("--duration", ["--role-arn", moto.roleArn, "--duration", "60"], base, "900")
        ]
        let context = TemporaryDirectory()
        try "FROM scratch\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let commands = [
            ["login"], ["whoami"], ["doctor"], ["push", DockerDaemon.baseImage, "--repository", "app", "--tag", "v1"],
            ["build-and-push", context.path, "--repository", "app", "--tag", "v1"]
        ]
        for (name, flags, environment, expected) in cases {
            for command in commands {
                let result = try await ECRPushCLI.run(command + flags, environment: environment)
                let label = "\(command[0]) with a bad \(name)"
                #expect(result.status == 64, "\(label): \(String(result.combinedText.prefix(2000)))")
                #expect(result.stderrText.contains(expected), "\(label): \(String(result.stderrText.prefix(2000)))")
                #expect(result.stderrText.count < 1500, "\(label): the value is not echoed whole")
                #expect(!result.stderrText.contains("cannot reach the Docker daemon"), "\(label): checked before Docker")
            }
        }
        #expect(try await Self.requestCount(moto) == 0, "no AWS request for a bad setting")

        // The same world accepts the good values: the cases above fail for their setting, not for the world.
        let good = try await ECRPushCLI.run(["whoami"], environment: base.merging(["AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": "adaptive"]) { $1 })
        #expect(good.status == 0, "\(good.combinedText)")
        #expect(try await Self.requestCount(moto) > 0, "moto counts what it receives")
    }

    /// Missing credentials are not bad input: they stay an operation failure (exit 1), said after the chain looked.
    @Test func missingCredentialsStayExitOne() async throws {
        let result = try await ECRPushCLI.run(["login", "--region", "us-east-1"], environment: ["AWS_MAX_ATTEMPTS": "1"])
        #expect(result.status == 1, "\(result.combinedText)")
        #expect(result.stderrText.contains("no AWS credentials"))
    }
}
