import Foundation
import TestWorld
import Testing

/// `[registry ALIAS]` sections of ecrpush's config used by `login --registry`, `push --registry` and the helper.
@Suite struct RegistryAliasTests {
    /// A config in a temporary XDG_CONFIG_HOME naming the loopback world `loop`: account, region, the AWS endpoint
    /// and the registry's real endpoint.
    static func configHome(moto: MotoWorld, registry: LoopbackRegistry, extra: String = "") throws -> TemporaryDirectory {
        let home = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: home.path + "/ecrpush", withIntermediateDirectories: true)
        try """
        [registry loop]
        registry_id = \(moto.accountId)
        region = \(moto.region)
        endpoint_url = \(moto.endpoint.absoluteString)
        registry_endpoint = \(registry.hostPort)
        \(extra)
        """.write(toFile: home.path + "/ecrpush/config", atomically: true, encoding: .utf8)
        return home
    }

    /// The containerise.py keys only: no region or endpoint, the section gives them.
    static func credentials(_ moto: MotoWorld) -> [String: String] {
        [
            "AWS_IAM_USER_ACCESS_KEY_ID": moto.userAccessKeyId, "AWS_IAM_USER_SECRET_ACCESS_KEY": moto.userSecretAccessKey,
            "AWS_IAM_ROLE_ARN": moto.roleArn
        ]
    }

    @Test func loginByAliasWritesTheRealRegistry() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let home = try Self.configHome(moto: moto, registry: registry)
        let docker = TemporaryDirectory()
        let environment = Self.credentials(moto).merging(["XDG_CONFIG_HOME": home.path, "DOCKER_CONFIG": docker.path]) { $1 }

        let json = try await ECRPushCLI.run(["login", "--registry", "loop", "--output", "json"], environment: environment)
        try #require(json.status == 0, "\(json.combinedText)")
        let logins = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]])
        #expect(logins.first?["registry"] as? String == registry.hostPort)
        #expect(logins.first?["password"] as? String == registry.password)

        let written = try await ECRPushCLI.run(
            ["login", "--registry", "LOOP", "--output", "docker-config", "--no-cache"],
            environment: environment)
        try #require(written.status == 0, "\(written.combinedText)")
        let config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: docker.appending("config.json"))) as? [String: Any])
        let auths = try #require(config["auths"] as? [String: Any])
        #expect(auths[registry.hostPort] != nil, "the login is written for the alias's registry_endpoint: \(auths.keys)")

        let unknown = try await ECRPushCLI.run(["login", "--registry", "nowhere"], environment: environment)
        #expect(unknown.status == 64)
        #expect(unknown.stderrText.contains("has no [registry nowhere] section"), "\(unknown.combinedText)")
    }

    /// The section's profile and role_arn: the profile's keys (ci-user, which may only assume the role) get
    /// the login through the role the section names.
    @Test func aliasProfileAndRoleAreUsed() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let home = try Self.configHome(
            moto: moto, registry: registry,
            extra: "profile = ci\nrole_arn = \(moto.roleArn)\n")
        let credentials = home.path + "/aws-credentials"
        try "[ci]\naws_access_key_id = \(moto.userAccessKeyId)\naws_secret_access_key = \(moto.userSecretAccessKey)\n"
            .write(toFile: credentials, atomically: true, encoding: .utf8)
        let environment = ["XDG_CONFIG_HOME": home.path, "AWS_SHARED_CREDENTIALS_FILE": credentials]

        let result = try await ECRPushCLI.run(["login", "--registry", "loop"], environment: environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stdoutText == registry.password + "\n")
        let counts = try await moto.counts()
        #expect(counts["AssumeRole"] == 1 && counts["GetAuthorizationToken"] == 1, "\(counts)")

        // Without the section's role, ci-user's own keys are refused by ECR: the role really came from the section.
        let withoutRole = try Self.configHome(moto: moto, registry: registry, extra: "profile = ci\n")
        let refused = try await ECRPushCLI.run(
            ["login", "--registry", "loop", "--no-cache"],
            environment: environment.merging(["XDG_CONFIG_HOME": withoutRole.path]) { $1 })
        #expect(refused.status == 1)
        #expect(refused.stderrText.contains("AccessDenied"), "\(refused.combinedText)")
    }

    @Test func malformedAliasSectionIsABadArgument() async throws {
        let home = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: home.path + "/ecrpush", withIntermediateDirectories: true)
        try "[registry loop]\nregistry_endpoint = http://127.0.0.1:5000/v2\n"
            .write(toFile: home.path + "/ecrpush/config", atomically: true, encoding: .utf8)
        let result = try await ECRPushCLI.run(["login", "--registry", "loop"], environment: ["XDG_CONFIG_HOME": home.path])
        #expect(result.status == 64)
        #expect(result.stderrText.contains("registry_endpoint"), "\(result.combinedText)")
        #expect(result.stderrText.contains(home.path + "/ecrpush/config:1"))
    }

    /// `push --registry loop`: the account, region, AWS endpoint and registry all come from the section.
    @Test func pushByAlias() async throws {
        let registry = try await LoopbackRegistry.shared()
        let docker = try await DockerDaemon.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let home = try Self.configHome(moto: moto, registry: registry)
        let repository = BuildAndPushTests.uniqueName("alias")
        let result = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--create-repository",
                "--registry", "loop", "--transport", "registry", "-q"
            ],
            environment: Self.credentials(moto).merging(["XDG_CONFIG_HOME": home.path, "DOCKER_HOST": docker.host]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stdoutText.hasPrefix("\(registry.hostPort)/\(repository):v1\n"), "\(result.stdoutText)")

        let unknown = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", repository, "--registry", "nowhere"],
            environment: ["XDG_CONFIG_HOME": home.path])
        #expect(unknown.status == 64)
        #expect(unknown.stderrText.contains("neither a registry host[:port] nor a [registry nowhere] section"), "\(unknown.combinedText)")
    }

    /// The real docker CLI pushes and pulls through the helper with only an alias section: docker names the
    /// registry by its endpoint, and the `[registry loop]` section whose registry_endpoint it is answers.
    @Test func dockerPushAndPullThroughAnAlias() async throws {
        let registry = try await LoopbackRegistry.shared()
        let docker = try await DockerDaemon.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let setup = try HelperSetup(registry: registry, moto: moto)
        let home = try Self.configHome(moto: moto, registry: registry)
        let image = "\(registry.hostPort)/alias-check:\(UUID().uuidString.prefix(8).lowercased())"
        let tagged = try await docker.docker(["tag", DockerDaemon.baseImage, image])
        try #require(tagged.status == 0, "\(tagged.combinedText)")
        func dockerCLI(_ arguments: [String]) async throws -> ProcessResult {
            try await runProcess(
                "docker", ["--config", setup.dockerConfig, "-H", docker.host] + arguments,
                environment: setup.environment(setup.credentials.merging(["XDG_CONFIG_HOME": home.path]) { $1 }),
                inheritEnvironment: false)
        }
        let pushed = try await dockerCLI(["push", image])
        #expect(pushed.status == 0, "\(pushed.combinedText)")
        _ = try await docker.docker(["rmi", image])
        let pulled = try await dockerCLI(["pull", image])
        #expect(pulled.status == 0, "\(pulled.combinedText)")
        _ = try await docker.docker(["rmi", image])
        #expect(try await moto.counts()["GetAuthorizationToken"] == 1, "one login, then the cache")
    }

    /// docker asks the helper about the registry endpoint; the alias section that names it answers.
    @Test func helperFindsTheAliasByItsRegistryEndpoint() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let setup = try HelperSetup(registry: registry, moto: moto)
        let home = try Self.configHome(moto: moto, registry: registry)
        let got = try await setup.helper("get", stdin: "http://\(registry.hostPort)/v2/", extra: ["XDG_CONFIG_HOME": home.path])
        #expect(got.status == 0, "\(got.combinedText)")
        #expect(got.stdoutText.contains(#""Secret":"\#(registry.password)""#))
        let list = try await setup.helper("list", stdin: "", extra: ["XDG_CONFIG_HOME": home.path])
        #expect(list.stdoutText == #"{"\#(registry.hostPort)":"AWS"}"# + "\n", "\(list.combinedText)")
    }
}
