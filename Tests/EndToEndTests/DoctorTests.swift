import Foundation
import TestWorld
import Testing

/// `ecrpush doctor` against the loopback world: moto (signatures and IAM checked), the auth registry, dockerd.
@Suite struct DoctorTests {
    struct Check: Decodable, Equatable {
        var name: String
        var status: String
        var detail: String
        var fix: String?
    }

    struct Report: Decodable {
        var checks: [Check]
        var healthy: Bool
        func status(_ name: String) -> String? { checks.first { $0.name == name }?.status }
        func check(_ name: String) -> Check? { checks.first { $0.name == name } }
    }

    static func report(_ result: ProcessResult) throws -> Report {
        try JSONDecoder().decode(Report.self, from: result.stdout)
    }

    /// `--registry ALIAS`: the section's account, region, endpoint and registry_endpoint. The token's
    /// proxyEndpoint points nowhere here, so the registry check passes only by using the section's endpoint.
    @Test func registryAliasIsCheckedAtItsOwnEndpoint() async throws {
        let registry = try await LoopbackRegistry.shared()
        let docker = try await DockerDaemon.shared()
        let moto = try await MotoWorld.start(registry: registry, extraArgs: ["--proxy-endpoint", "http://127.0.0.1:9"])
        defer { moto.stop() }
        let config = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: config.path + "/ecrpush", withIntermediateDirectories: true)
        try """
        [registry loop]
        registry_endpoint = \(registry.hostPort)
        registry_id = \(moto.accountId)
        region = \(moto.region)
        endpoint_url = \(moto.endpoint.absoluteString)
        """.write(toFile: config.path + "/ecrpush/config", atomically: true, encoding: .utf8)
        var environment = moto.containeriseEnvironment.merging(docker.environment) { $1 }
        environment["XDG_CONFIG_HOME"] = config.path
        environment["AWS_ENDPOINT_URL"] = nil
        environment["AWS_REGION"] = nil

        let aliased = try await ECRPushCLI.run(["doctor", "--registry", "loop", "--output", "json"], environment: environment)
        let report = try Self.report(aliased)
        #expect(report.check("registry")?.status == "ok", "\(aliased.combinedText)")
        #expect(report.check("registry")?.detail.contains(registry.hostPort) == true)
        #expect(report.check("region")?.detail.hasPrefix(moto.region) == true)

        // Without the section, the token's own (dead) endpoint is what gets checked.
        environment["AWS_ENDPOINT_URL"] = moto.endpoint.absoluteString
        environment["AWS_REGION"] = moto.region
        let plain = try await ECRPushCLI.run(["doctor", "--output", "json"], environment: environment)
        #expect(try Self.report(plain).check("registry")?.status == "FAIL", "\(plain.combinedText)")

        let unknown = try await ECRPushCLI.run(["doctor", "--registry", "nowhere"], environment: environment)
        #expect(unknown.status == 64, "\(unknown.combinedText)")
    }

    @Test func everythingOkOnTheLoopbackWorld() async throws {
        let registry = try await LoopbackRegistry.shared()
        let docker = try await DockerDaemon.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let repository = "doctor/app-\(UInt32.random(in: 0...UInt32.max))"
        let created = try await runPython(
            "import boto3, sys; boto3.client('ecr').create_repository(repositoryName=sys.argv[1])",
            arguments: [repository], environment: moto.awsEnvironment(.admin))
        try #require(created.status == 0, "\(created.combinedText)")
        try await moto.resetCounts()

        let environment = moto.containeriseEnvironment.merging(docker.environment) { $1 }
        let json = try await ECRPushCLI.run(["doctor", "--repository", repository, "--output", "json"], environment: environment)
        #expect(json.status == 0, "\(json.combinedText)")
        let report = try Self.report(json)
        #expect(report.healthy)
        #expect(report.checks.map(\.name) == ["docker", "region", "credentials", "registry", "push"])
        #expect(report.checks.allSatisfy { $0.status == "ok" }, "\(report.checks)")
        #expect(report.check("docker")?.detail.contains("API") == true)
        #expect(report.check("credentials")?.detail.contains(":assumed-role/ecr-pusher/AssumeRoleSession1") == true)
        #expect(report.check("region")?.detail.hasPrefix(moto.region) == true)
        #expect(report.check("registry")?.detail.contains(registry.hostPort) == true)
        #expect(!json.combinedText.contains(registry.password))
        #expect(!json.combinedText.contains(moto.userSecretAccessKey))

        // A dry run: nothing was uploaded or created.
        let counts = try await moto.counts()
        #expect(counts["BatchCheckLayerAvailability"] == 1)
        #expect(counts["InitiateLayerUpload"] == nil)
        #expect(counts["PutImage"] == nil)
        #expect(counts["CreateRepository"] == nil)

        let text = try await ECRPushCLI.run(["doctor", "--repository", repository], environment: environment)
        #expect(text.status == 0, "\(text.combinedText)")
        let lines = text.stdoutText.split(separator: "\n")
        #expect(lines.count == 5, "one line per check: \(text.stdoutText)")
        #expect(lines.allSatisfy { $0.hasPrefix("ok ") })
    }

    @Test func withoutARepositoryThePushCheckIsSkipped() async throws {
        let registry = try await LoopbackRegistry.shared()
        let docker = try await DockerDaemon.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let result = try await ECRPushCLI.run(
            ["doctor", "--output", "json"],
            environment: moto.containeriseEnvironment.merging(docker.environment) { $1 })
        #expect(result.status == 0, "skips don't fail: \(result.combinedText)")
        let report = try Self.report(result)
        #expect(report.status("push") == "skip")
        #expect(report.check("push")?.detail.contains("--repository") == true)
    }

    @Test func noDaemonAndNoCredentialsEachSayTheFix() async throws {
        let result = try await ECRPushCLI.run(["doctor"], environment: ["AWS_REGION": "us-east-1"])
        #expect(result.status == 1)
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("FAIL  docker") == true, "\(result.stdoutText)")
        #expect(lines.contains { $0.hasPrefix("FAIL  credentials") && $0.contains("no AWS credentials") })
        #expect(lines.filter { $0.hasPrefix("      fix: ") }.count == 2)
        #expect(lines.contains { $0.hasPrefix("skip  registry") })
        #expect(lines.contains { $0.hasPrefix("skip  push") })

        let json = try await ECRPushCLI.run(["doctor", "--output", "json"], environment: ["AWS_REGION": "us-east-1"])
        #expect(json.status == 1)
        let report = try Self.report(json)
        #expect(!report.healthy)
        #expect(report.check("docker")?.detail.contains("/nonexistent/docker.sock") == true)
        #expect(report.check("docker")?.fix?.contains("DOCKER_HOST") == true)
    }

    /// The IAM user of the containerise.py recipe may only assume the role: the registry check says so.
    @Test func principalWithoutECRPermissionsFailsTheRegistryCheck() async throws {
        let docker = try await DockerDaemon.shared()
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let result = try await ECRPushCLI.run(
            ["doctor", "--repository", "team/app", "--output", "json"],
            environment: moto.awsEnvironment(.user).merging(docker.environment) { $1 })
        #expect(result.status == 1, "\(result.combinedText)")
        let report = try Self.report(result)
        #expect(report.status("docker") == "ok")
        #expect(report.status("credentials") == "ok")
        #expect(report.status("registry") == "FAIL")
        #expect(report.check("registry")?.detail.contains("GetAuthorizationToken") == true)
        #expect(report.check("registry")?.fix?.contains("ecr:GetAuthorizationToken") == true)
        #expect(report.status("push") == "FAIL", "the push check runs on its own")
        #expect(!result.combinedText.contains(moto.userSecretAccessKey))
    }

    @Test func badArgumentsAreUsageErrors() async throws {
        let result = try await ECRPushCLI.run(["doctor", "--repository", "Not Valid"], environment: [:])
        #expect(result.status == 64)
    }
}
