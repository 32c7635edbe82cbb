import Foundation
import TestWorld
import Testing

/// `ecrpush login` and `whoami` against moto with every signature and permission checked.
@Suite struct LoginCommandTests {
    @Test func containeriseRecipePrintsTheRegistryPassword() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let result = try await ECRPushCLI.run(["login"], environment: moto.containeriseEnvironment)
        #expect(result.status == 0, "\(result.combinedText)")
        #expect(result.stdoutText == registry.password + "\n")
        let counts = try await moto.counts()
        #expect(counts["AssumeRole"] == 1)
        #expect(counts["GetAuthorizationToken"] == 1)
    }

    /// A password that cannot reach stdout (a full disk behind `> file`: /dev/full) is an error the script sees,
    /// after the login itself: exit 74 (EX_IOERR) and a line on stderr. It was taken for a lost reader (SIGPIPE, 141),
    /// and before that Foundation's write trapped on it (132).
    @Test func aPasswordThatCannotBeWrittenIsAnError() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let login = try BackgroundECRPush(
            ["login"], environment: moto.containeriseEnvironment, launcher: ["/bin/sh", "-c", "exec \"$0\" \"$@\" > /dev/full"])
        #expect(await login.ending(timeout: .seconds(60)) == .exited(74), "\(login.stderrText)")
        #expect(
            login.stderrText.contains(
                "ecrpush: error: the login's output could not be written to stdout (No space left on device); the login itself completed"),
            "\(login.stderrText)")
        #expect(try await moto.counts()["GetAuthorizationToken"] == 1)
    }

    /// STS and ECR are two hosts on AWS: a login that is not cached opens ECR's connection while the role is
    /// assumed (an unsigned `GET /` before any signed call), and GetAuthorizationToken goes over it. ECR here is moto
    /// behind a proxy that logs each request's connection. The same login again comes from the token cache: nothing
    /// more reaches ECR.
    @Test func aLoginOpensECRsConnectionWhileTheRoleIsAssumed() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let proxy = try await FaultProxy.start(for: moto)
        defer { proxy.stop() }
        let cache = TemporaryDirectory()
        let environment = moto.containeriseEnvironment.merging(["AWS_ENDPOINT_URL_ECR": "http://\(proxy.hostPort)", "XDG_CACHE_HOME": cache.path]) {
            $1
        }
        let result = try await ECRPushCLI.run(["login"], environment: environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stdoutText == registry.password + "\n")
        let seen = try await proxy.seen()
        let described = seen.map { "\($0.method) \($0.path) \($0.target ?? "-") \($0.connection ?? 0)" }
        #expect(seen.count == 2, "\(described)")
        // The connection the GET opened carried the login after it: it was open before the login could be signed.
        let opened = seen.first { $0.method == "GET" && $0.path == "/" && !$0.authorization }
        let login = seen.first { $0.target?.hasSuffix(".GetAuthorizationToken") == true && $0.authorization }
        #expect(opened?.connection != nil && opened?.connection == login?.connection, "one connection: \(described)")

        let again = try await ECRPushCLI.run(["login"], environment: environment)
        try #require(again.status == 0, "\(again.combinedText)")
        #expect(try await proxy.seen().count == 2, "the token cache answered")
    }

    @Test func jsonOutputDescribesTheLogin() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let result = try await ECRPushCLI.run(["login", "--output", "json"], environment: moto.containeriseEnvironment)
        try #require(result.status == 0, "\(result.combinedText)")
        let logins = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        #expect(logins.count == 1)
        #expect(logins.first?["username"] as? String == "AWS")
        #expect(logins.first?["password"] as? String == registry.password)
        #expect(logins.first?["registry"] as? String == registry.hostPort)
        #expect(logins.first?["proxyEndpoint"] as? String == registry.url)
        #expect((logins.first?["expiresAt"] as? String)?.hasSuffix("Z") == true)
    }

    @Test func crossAccountRegistryIdsGiveOneEntryEach() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let result = try await ECRPushCLI.run(
            ["login", "--output", "json", "--registry-id", "111122223333", "--registry-id", moto.accountId],
            environment: moto.containeriseEnvironment)
        try #require(result.status == 0, "\(result.combinedText)")
        let logins = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        #expect(logins.count == 2)
    }

    /// The file ecrpush writes is one the real docker CLI uses: a push to the auth-protected registry works.
    @Test func dockerConfigOutputIsAcceptedByDocker() async throws {
        let registry = try await LoopbackRegistry.shared()
        let docker = try await DockerDaemon.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let config = TemporaryDirectory()
        try #"{"psFormat": "table {{.ID}}", "auths": {"other.example": {"auth": "eDp5"}}}"#
            .write(toFile: config.path + "/config.json", atomically: true, encoding: .utf8)
        chmod(config.path + "/config.json", 0o640)
        let result = try await ECRPushCLI.run(
            ["login", "--output", "docker-config"],
            environment: moto.containeriseEnvironment.merging(["DOCKER_CONFIG": config.path]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stdoutText.isEmpty)
        #expect(!result.combinedText.contains(registry.password))

        let attributes = try FileManager.default.attributesOfItem(atPath: config.path + "/config.json")
        #expect((attributes[.posixPermissions] as? Int) == 0o640, "the mode the user gave the file is kept, as docker keeps it")
        let document = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: config.path + "/config.json"))) as? [String: Any])
        #expect(document["psFormat"] as? String == "table {{.ID}}")
        let auths = try #require(document["auths"] as? [String: Any])
        #expect(auths["other.example"] != nil)
        #expect(auths[registry.hostPort] != nil)

        let image = "\(registry.hostPort)/login-config-check:1"
        let tagged = try await docker.docker(["tag", DockerDaemon.baseImage, image])
        try #require(tagged.status == 0, "\(tagged.combinedText)")
        let pushed = try await runProcess("docker", ["--config", config.path, "-H", docker.host, "push", image])
        #expect(pushed.status == 0, "\(pushed.combinedText)")
        let anonymous = TemporaryDirectory()
        let refused = try await runProcess("docker", ["--config", anonymous.path, "-H", docker.host, "push", image])
        #expect(refused.status != 0, "the registry must refuse a push without the login")
    }

    @Test func wrongSecretKeyIsSaidPlainlyWithoutTheSecret() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        var environment = moto.containeriseEnvironment
        environment["AWS_IAM_USER_SECRET_ACCESS_KEY"] = "wrongSecretKeyValue0000000000000000000000"
        let result = try await ECRPushCLI.run(["login"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stdoutText.isEmpty)
        #expect(result.stderrText.contains("SignatureDoesNotMatch"))
        #expect(result.stderrText.contains("secret access key"))
        #expect(!result.stderrText.contains("wrongSecretKeyValue"))
    }

    /// The cache keys on the key behind the containerise.py role, not on the variables' names: with a login
    /// cached, a wrong secret gets AWS's refusal (never the cached password), and the right one the cached login.
    @Test func cachedLoginIsNotGivenToAWrongSecret() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let cache = TemporaryDirectory()
        var environment = moto.containeriseEnvironment
        environment["XDG_CACHE_HOME"] = cache.path
        let first = try await ECRPushCLI.run(["login"], environment: environment)
        try #require(first.status == 0, "\(first.combinedText)")

        var wrong = environment
        wrong["AWS_IAM_USER_SECRET_ACCESS_KEY"] = "wrongSecretKeyValue0000000000000000000000"
        let refused = try await ECRPushCLI.run(["login"], environment: wrong)
        #expect(refused.status == 1)
        #expect(refused.stdoutText.isEmpty, "the cached password must not reach a caller with a wrong secret")
        #expect(refused.stderrText.contains("SignatureDoesNotMatch"))

        let again = try await ECRPushCLI.run(["login"], environment: environment)
        #expect(again.status == 0 && again.stdoutText == registry.password + "\n", "\(again.combinedText)")
        let counts = try await moto.counts()
        #expect(counts["GetAuthorizationToken"] == 1, "the right secret finds the login cached by the first run")
    }

    @Test func webIdentityTokenFile() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let directory = TemporaryDirectory()
        let tokenFile = directory.path + "/token"
        // A JWT-shaped token as GitHub's OIDC provider hands out.
        try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9yZy9hcHAifQ.c2lnbmF0dXJl".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let environment = [
            "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": moto.roleArn,
            "AWS_ROLE_SESSION_NAME": "github-actions", "AWS_REGION": moto.region,
            "AWS_ENDPOINT_URL": moto.endpoint.absoluteString
        ]
        let login = try await ECRPushCLI.run(["login"], environment: environment)
        #expect(login.status == 0, "\(login.combinedText)")
        #expect(login.stdoutText == registry.password + "\n")
        let whoami = try await ECRPushCLI.run(["whoami", "--output", "json"], environment: environment)
        try #require(whoami.status == 0, "\(whoami.combinedText)")
        let report = try #require(try JSONSerialization.jsonObject(with: whoami.stdout) as? [String: String])
        #expect(report["arn"]?.hasSuffix(":assumed-role/ecr-pusher/github-actions") == true)
        #expect(report["credentialSource"]?.contains("web identity") == true)

        try "".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let empty = try await ECRPushCLI.run(["login"], environment: environment)
        #expect(empty.status == 1)
        #expect(empty.stderrText.contains(tokenFile))
    }

    @Test func whoamiNamesTheAssumedRoleAndTheSource() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let result = try await ECRPushCLI.run(["whoami"], environment: moto.containeriseEnvironment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stdoutText.contains("arn:aws:sts::\(moto.accountId):assumed-role/ecr-pusher/AssumeRoleSession1"))
        #expect(result.stdoutText.contains("AWS_IAM_ROLE_ARN") || result.stdoutText.contains("AWS_IAM_USER"))
        #expect(result.stdoutText.contains("us-east-1"))
    }

    @Test func debugOutputRedactsEverySecret() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let result = try await ECRPushCLI.run(["login", "--debug", "--output", "json"], environment: moto.containeriseEnvironment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("AssumeRole"))
        #expect(result.stderrText.contains("GetAuthorizationToken"))
        // Every debug line is timed from the command's start.
        let times = result.stderrText.split(separator: "\n").filter { $0.hasPrefix("[debug") }.map { line in
            Double(line.dropFirst("[debug +".count).prefix { $0 != "s" }) ?? -1
        }
        #expect(times.count >= 4)
        #expect(times.allSatisfy { $0 >= 0 && $0 < 60 }, "\(times)")
        #expect(!result.stderrText.contains(moto.userSecretAccessKey))
        #expect(!result.stderrText.contains(registry.password))
        #expect(!result.stderrText.contains("Signature=") || result.stderrText.contains("Signature=<redacted>"))
        // The role's session token and secret appear in the AssumeRole response: never in the log.
        #expect(!result.stderrText.contains("<SessionToken>F"))
        #expect(result.stderrText.contains("<redacted>"))
    }

    @Test func clearErrorsForBadInput() async throws {
        let noCredentials = try await ECRPushCLI.run(["login", "--region", "us-east-1"], environment: [:])
        #expect(noCredentials.status == 1)
        #expect(noCredentials.stderrText.contains("no AWS credentials"))
        #expect(noCredentials.stderrText.contains("AWS_ACCESS_KEY_ID"))

        let noRegion = try await ECRPushCLI.run(
            ["login"],
            environment: [
                "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                "AWS_SECRET_ACCESS_KEY": "x"
            ])
        #expect(noRegion.status == 1)
        #expect(noRegion.stderrText.contains("region"))

        let badArn = try await ECRPushCLI.run(["login", "--role-arn", "arn:aws:iam::12:user/x"], environment: [:])
        #expect(badArn.status == 64)
        #expect(badArn.stderrText.contains("not a role ARN"))

        let badRegistryId = try await ECRPushCLI.run(["login", "--registry-id", "abc"], environment: [:])
        #expect(badRegistryId.status == 64)

        let refusedPort = try freePort()
        let refused = try await ECRPushCLI.run(
            ["login", "--endpoint-url", "http://127.0.0.1:\(refusedPort)"],
            environment: [
                "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1",
                "AWS_MAX_ATTEMPTS": "1"
            ])
        #expect(refused.status == 1)
        #expect(refused.stderrText.contains("127.0.0.1:\(refusedPort)"))
    }

    /// Several registries across accounts and regions in one call: each host's region decides where to ask.
    @Test func registryHostsAcrossRegions() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let hosts = ["\(moto.accountId).dkr.ecr.us-east-1.amazonaws.com", "111122223333.dkr.ecr.eu-west-1.amazonaws.com"]
        var environment = moto.containeriseEnvironment
        environment["AWS_REGION"] = nil
        let result = try await ECRPushCLI.run(
            ["login", "--output", "json", "--registry", hosts[0], "--registry", hosts[1]],
            environment: environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let logins = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        #expect(logins.count == 2)
        let counts = try await moto.counts()
        #expect(counts["GetAuthorizationToken"] == 2)

        let lookAlike = try await ECRPushCLI.run(
            ["login", "--registry", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example"],
            environment: environment)
        #expect(lookAlike.status == 64)
        #expect(lookAlike.stderrText.contains("is not an ECR registry host"))
    }
}
