import Foundation
import TestWorld
import Testing

/// A loopback setup the real docker CLI uses: `credHelpers` sends `127.0.0.1:PORT` to `docker-credential-ecrpush`
/// (a link to the built binary on PATH), whose config maps that host to the moto world's endpoint and account.
struct HelperSetup {
    let registry: LoopbackRegistry
    let moto: MotoWorld
    let root = TemporaryDirectory(prefix: "ech")

    var binDirectory: String { root.path + "/bin" }
    var helperPath: String { binDirectory + "/docker-credential-ecrpush" }
    var dockerConfig: String { root.path + "/docker" }
    var configHome: String { root.path + "/config" }
    var cacheHome: String { root.path + "/cache" }

    init(registry: LoopbackRegistry, moto: MotoWorld) throws {
        self.registry = registry
        self.moto = moto
        let files = FileManager.default
        for directory in [binDirectory, dockerConfig, configHome + "/ecrpush", root.path + "/home"] {
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try files.createSymbolicLink(atPath: helperPath, withDestinationPath: ECRPushCLI.binary)
        try #"{"credHelpers": {"\#(registry.hostPort)": "ecrpush"}}"#
            .write(toFile: dockerConfig + "/config.json", atomically: true, encoding: .utf8)
        try """
        [registry \(registry.hostPort)]
        registry_id = \(moto.accountId)
        region = \(moto.region)
        endpoint_url = \(moto.endpoint.absoluteString)
        """.write(toFile: configHome + "/ecrpush/config", atomically: true, encoding: .utf8)
    }

    /// Nothing of the host's AWS or docker settings: PATH (with the helper first), a private home and the given
    /// variables.
    func environment(_ extra: [String: String]) -> [String: String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return [
            "PATH": binDirectory + ":" + path, "HOME": root.path + "/home",
            "XDG_CONFIG_HOME": configHome, "XDG_CACHE_HOME": cacheHome,
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"
        ].merging(extra) { $1 }
    }

    /// The containerise.py variables, but no endpoint or region: the registry config supplies those.
    var credentials: [String: String] {
        [
            "AWS_IAM_USER_ACCESS_KEY_ID": moto.userAccessKeyId, "AWS_IAM_USER_SECRET_ACCESS_KEY": moto.userSecretAccessKey,
            "AWS_IAM_ROLE_ARN": moto.roleArn
        ]
    }

    func helper(_ action: String, stdin: String, extra: [String: String] = [:]) async throws -> ProcessResult {
        try await runProcess(
            helperPath, [action], environment: environment(credentials.merging(extra) { $1 }),
            inheritEnvironment: false, stdin: Data(stdin.utf8))
    }
}

@Suite struct CredentialHelperTests {
    /// The protocol through the real binary, byte for byte, and a second `get` served by the cache.
    @Test func getAnswersExactlyAndTheSecondGetMakesNoAWSCall() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let setup = try HelperSetup(registry: registry, moto: moto)

        let first = try await setup.helper("get", stdin: registry.hostPort + "\n")
        #expect(first.status == 0, "\(first.combinedText)")
        #expect(first.stdoutText == #"{"ServerURL":"\#(registry.hostPort)","Username":"AWS","Secret":"\#(registry.password)"}"# + "\n")
        #expect(first.stderr.isEmpty)
        let afterFirst = try await moto.counts()
        #expect(afterFirst["GetAuthorizationToken"] == 1)

        let second = try await setup.helper("get", stdin: registry.hostPort)
        #expect(second.stdout == first.stdout)
        #expect(try await moto.counts() == afterFirst, "a cached login makes no AWS call at all")

        let list = try await setup.helper("list", stdin: "")
        #expect(list.stdoutText == #"{"\#(registry.hostPort)":"AWS"}"# + "\n")
        let store = try await setup.helper("store", stdin: #"{"ServerURL":"x","Username":"u","Secret":"s"}"#)
        #expect(store.status == 0 && store.stdout.isEmpty)
        let version = try await setup.helper("version", stdin: "")
        #expect(version.stdoutText.hasPrefix("docker-credential-ecrpush (ecrpush) "))

        // Off: every get asks ECR again.
        let uncached = try await setup.helper("get", stdin: registry.hostPort, extra: ["ECRPUSH_NO_CACHE": "1"])
        #expect(uncached.stdout == first.stdout)
        #expect(try await moto.counts()["GetAuthorizationToken"] == 2)

        let files = try FileManager.default.contentsOfDirectory(atPath: setup.cacheHome + "/ecrpush").filter { $0.hasSuffix(".json") }
        #expect(files.count == 1)
        #expect((try FileManager.default.attributesOfItem(atPath: setup.cacheHome + "/ecrpush")[.posixPermissions] as? Int) == 0o700)
        #expect((try FileManager.default.attributesOfItem(atPath: setup.cacheHome + "/ecrpush/" + files[0])[.posixPermissions] as? Int) == 0o600)
    }

    /// Several processes started together with an empty cache make one refresh between them.
    @Test func concurrentGetsRefreshOnce() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let setup = try HelperSetup(registry: registry, moto: moto)
        let results = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
            for _ in 0..<4 { group.addTask { try await setup.helper("get", stdin: registry.hostPort) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for result in results { #expect(result.status == 0, "\(result.combinedText)") }
        #expect(Set(results.map(\.stdout)).count == 1)
        let counts = try await moto.counts()
        #expect(counts["GetAuthorizationToken"] == 1)
        #expect(counts["AssumeRole"] == 1)
    }

    @Test func failuresSayTheCauseOnStderr() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let setup = try HelperSetup(registry: registry, moto: moto)
        let wrong = try await setup.helper(
            "get", stdin: registry.hostPort,
            extra: ["AWS_IAM_USER_SECRET_ACCESS_KEY": "wrongSecretKeyValue0000000000000000000000"])
        #expect(wrong.status == 1)
        #expect(wrong.stdoutText.contains("SignatureDoesNotMatch"))
        #expect(wrong.stderrText.contains("SignatureDoesNotMatch"))
        #expect(!wrong.combinedText.contains("wrongSecretKeyValue"))

        let other = try await setup.helper("get", stdin: "https://index.docker.io/v1/")
        #expect(other.status == 1)
        #expect(other.stdoutText == "credentials not found in native keychain\n")
        #expect(other.stderrText.contains("not an Amazon ECR registry host"))
    }

    /// A FIPS registry host has its token fetched from the FIPS endpoint. Nothing leaves the machine: the HTTPS
    /// proxy is a closed loopback port, so the error names the endpoint that was asked for.
    @Test func fipsHostsAskTheFIPSEndpoint() async throws {
        let closedPort = try freePort()
        let bin = TemporaryDirectory()
        let helper = bin.path + "/docker-credential-ecrpush"
        try FileManager.default.createSymbolicLink(atPath: helper, withDestinationPath: ECRPushCLI.binary)
        func get(_ host: String) async throws -> ProcessResult {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            return try await runProcess(
                helper, ["get"],
                environment: [
                    "PATH": path, "HOME": NSTemporaryDirectory(), "ECRPUSH_NO_CACHE": "1",
                    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret",
                    "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true",
                    "AWS_MAX_ATTEMPTS": "1", "https_proxy": "http://127.0.0.1:\(closedPort)", "HTTPS_PROXY": "http://127.0.0.1:\(closedPort)"
                ], inheritEnvironment: false, stdin: Data(host.utf8))
        }
        let fips = try await get("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com")
        #expect(fips.status == 1)
        #expect(fips.stderrText.contains("https://ecr-fips.us-east-1.amazonaws.com"), "\(fips.combinedText)")
        let plain = try await get("123456789012.dkr.ecr.eu-west-1.amazonaws.com")
        #expect(plain.stderrText.contains("https://api.ecr.eu-west-1.amazonaws.com"), "\(plain.combinedText)")
    }

    /// The real docker CLI pushes and pulls through the helper, and fails without credentials.
    @Test func dockerPushAndPullUseTheHelper() async throws {
        let registry = try await LoopbackRegistry.shared()
        let docker = try await DockerDaemon.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let setup = try HelperSetup(registry: registry, moto: moto)
        let image = "\(registry.hostPort)/credential-helper-check:\(UUID().uuidString.prefix(8).lowercased())"
        let tagged = try await docker.docker(["tag", DockerDaemon.baseImage, image])
        try #require(tagged.status == 0, "\(tagged.combinedText)")

        func dockerCLI(_ arguments: [String], _ extra: [String: String]) async throws -> ProcessResult {
            try await runProcess(
                "docker", ["--config", setup.dockerConfig, "-H", docker.host] + arguments,
                environment: setup.environment(extra), inheritEnvironment: false)
        }

        let refused = try await dockerCLI(["push", image], [:])
        #expect(refused.status != 0, "without AWS credentials the helper has no login: \(refused.combinedText)")
        #expect(refused.combinedText.contains("no AWS credentials"), "\(refused.combinedText)")

        let pushed = try await dockerCLI(["push", image], setup.credentials)
        #expect(pushed.status == 0, "\(pushed.combinedText)")
        let removed = try await docker.docker(["rmi", image])
        #expect(removed.status == 0, "\(removed.combinedText)")
        let pulled = try await dockerCLI(["pull", image], setup.credentials)
        #expect(pulled.status == 0, "\(pulled.combinedText)")
        _ = try await docker.docker(["rmi", image])
        #expect(try await moto.counts()["GetAuthorizationToken"] == 1, "the pull reused the push's cached login")
    }
}

/// `ecrpush login`: the token cache and the github and env outputs.
@Suite struct LoginCacheAndOutputTests {
    func run(_ arguments: [String], _ moto: MotoWorld, cache: String, extra: [String: String] = [:]) async throws -> ProcessResult {
        try await ECRPushCLI.run(
            arguments,
            environment: moto.containeriseEnvironment
                .merging(["XDG_CACHE_HOME": cache]) { $1 }.merging(extra) { $1 })
    }

    @Test func loginUsesTheCacheUnlessToldNotTo() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let cache = TemporaryDirectory()
        for _ in 0..<2 {
            let login = try await run(["login"], moto, cache: cache.path)
            #expect(login.stdoutText == registry.password + "\n", "\(login.combinedText)")
        }
        #expect(try await moto.counts()["GetAuthorizationToken"] == 1)
        #expect(try await run(["login", "--no-cache"], moto, cache: cache.path).status == 0)
        #expect(try await moto.counts()["GetAuthorizationToken"] == 2)
        #expect(try await run(["login"], moto, cache: cache.path, extra: ["ECRPUSH_NO_CACHE": "1"]).status == 0)
        #expect(try await moto.counts()["GetAuthorizationToken"] == 3)
        let cleared = try await run(["cache", "clear"], moto, cache: cache.path)
        #expect(cleared.status == 0 && cleared.stderrText.contains("Removed 1 cached login"), "\(cleared.combinedText)")
        #expect(try await run(["login"], moto, cache: cache.path).status == 0)
        #expect(try await moto.counts()["GetAuthorizationToken"] == 4)
    }

    @Test func githubOutputMasksThePasswordAndAppendsTheOutputs() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let directory = TemporaryDirectory()
        let outputFile = directory.path + "/github_output"
        try "earlier=1\n".write(toFile: outputFile, atomically: true, encoding: .utf8)
        let result = try await run(
            ["login", "--output", "github"], moto, cache: directory.path + "/cache",
            extra: ["GITHUB_OUTPUT": outputFile])
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stdoutText == "::add-mask::\(registry.password)\n")
        let lines = try String(contentsOfFile: outputFile, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.first == "earlier=1")
        #expect(lines.contains("registry=\(registry.hostPort)"))
        #expect(lines.contains("username=AWS"))
        #expect(lines.contains("password=\(registry.password)"))
        #expect(lines.contains { $0.hasPrefix("expires-at=") && $0.hasSuffix("Z") })

        let unset = try await run(["login", "--output", "github"], moto, cache: directory.path + "/cache")
        #expect(unset.status == 64)
        #expect(unset.stderrText.contains("GITHUB_OUTPUT"))
    }

    @Test func envOutputIsShellSafe() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let directory = TemporaryDirectory()
        let result = try await run(["login", "--output", "env"], moto, cache: directory.path)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(
            result.stdoutText == """
                export ECR_REGISTRY='\(registry.hostPort)'
                export ECR_USERNAME='AWS'
                export ECR_PASSWORD='\(registry.password)'

                """)
        // What a shell makes of it: the same values back.
        let script = result.stdoutText + "\nprintf '%s|%s|%s' \"$ECR_REGISTRY\" \"$ECR_USERNAME\" \"$ECR_PASSWORD\""
        let evaluated = try await runProcess("/bin/sh", ["-c", script])
        #expect(evaluated.stdoutText == "\(registry.hostPort)|AWS|\(registry.password)")
    }

    /// Quotes, command substitutions and backslashes in a password come back from the shell unchanged.
    @Test func envOutputSurvivesHostilePasswords() async throws {
        let registry = try await LoopbackRegistry.shared()
        let password = #"it's "$(echo pwned)" `id` \ $HOME ;x"#
        let moto = try await MotoWorld.start(registry: registry, extraArgs: ["--registry-password", password])
        defer { moto.stop() }
        let directory = TemporaryDirectory()
        let result = try await run(["login", "--output", "env"], moto, cache: directory.path)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stdoutText.contains(#"export ECR_PASSWORD='it'\''s "$(echo pwned)" `id` \ $HOME ;x'"#))
        let evaluated = try await runProcess("/bin/sh", ["-c", result.stdoutText + "\nprintf '%s' \"$ECR_PASSWORD\""])
        #expect(evaluated.stdoutText == password)
    }
}
