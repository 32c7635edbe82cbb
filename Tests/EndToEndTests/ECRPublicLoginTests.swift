import Foundation
import TestWorld
import Testing

/// ECR Public (`public.ecr.aws`): `ecrpush login --public` and the credential helper, against motoworld's
/// ecr-public GetAuthorizationToken (SigV4 for ecr-public in us-east-1 checked, and both IAM actions AWS requires).
@Suite struct ECRPublicLoginTests {
    func login(_ arguments: [String], _ environment: [String: String], cache: String) async throws -> ProcessResult {
        try await ECRPushCLI.run(["login"] + arguments, environment: environment.merging(["XDG_CACHE_HOME": cache]) { $1 })
    }

    @Test func publicLoginIsSignedCachedAndKeptApartFromThePrivateOne() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let cache = TemporaryDirectory()
        // The region the caller works in does not matter: ECR Public is signed for us-east-1.
        let environment = moto.containeriseEnvironment.merging(["AWS_REGION": "eu-west-1"]) { $1 }

        let first = try await login(["--public", "--output", "json"], environment, cache: cache.path)
        try #require(first.status == 0, "\(first.combinedText)")
        let logins = try #require(try JSONSerialization.jsonObject(with: first.stdout) as? [[String: Any]])
        #expect(logins.count == 1)
        #expect(logins.first?["registry"] as? String == "public.ecr.aws")
        #expect(logins.first?["username"] as? String == "AWS")
        #expect(logins.first?["password"] as? String == registry.password, "the token decodes to the loopback registry's password")
        #expect(try await moto.counts()["ecr-public:GetAuthorizationToken"] == 1)

        let again = try await login(["--registry", "public.ecr.aws"], environment, cache: cache.path)
        #expect(again.stdoutText == registry.password + "\n", "\(again.combinedText)")
        #expect(try await moto.counts()["ecr-public:GetAuthorizationToken"] == 1, "the second login came from the cache")

        // In us-east-1 with the same endpoint and principal, only the registry id tells the two logins apart.
        let privateLogin = try await login([], moto.containeriseEnvironment, cache: cache.path)
        #expect(privateLogin.status == 0, "\(privateLogin.combinedText)")
        let counts = try await moto.counts()
        #expect(counts["GetAuthorizationToken"] == 1, "the private registry's login is not the cached public one")
        #expect(counts["ecr-public:GetAuthorizationToken"] == 1)
    }

    /// AWS needs ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken: lacking either is a plain error
    /// naming both. A wrong secret is a signature error (motoworld really checks the signature).
    @Test func deniedAndBadlySignedLoginsSayWhy() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let cache = TemporaryDirectory()

        let user = try await login(["--public"], moto.awsEnvironment(.user), cache: cache.path)
        #expect(user.status == 1)
        #expect(user.stderrText.contains("not authorized to perform: ecr-public:GetAuthorizationToken"), "\(user.combinedText)")
        #expect(user.stderrText.contains("needs both ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken"))

        var half = moto.awsEnvironment(.user)
        half["AWS_ACCESS_KEY_ID"] = moto.publicHalfAccessKeyId
        half["AWS_SECRET_ACCESS_KEY"] = moto.publicHalfSecretAccessKey
        let halfResult = try await login(["--public"], half, cache: cache.path)
        #expect(halfResult.status == 1)
        #expect(halfResult.stderrText.contains("not authorized to perform: sts:GetServiceBearerToken"), "\(halfResult.combinedText)")
        #expect(!halfResult.combinedText.contains(moto.publicHalfSecretAccessKey))

        half["AWS_SECRET_ACCESS_KEY"] = "wrongSecretKeyValue0000000000000000000000"
        let wrong = try await login(["--public"], half, cache: cache.path)
        #expect(wrong.status == 1)
        #expect(wrong.stderrText.contains("InvalidSignatureException"), "\(wrong.combinedText)")
        let cached = (try? FileManager.default.contentsOfDirectory(atPath: cache.path + "/ecrpush")) ?? []
        #expect(cached.allSatisfy { !$0.hasSuffix(".json") }, "a refused login is never cached: \(cached)")
    }

    /// Without an endpoint setting, ECR Public is asked at its one real endpoint in us-east-1, whatever the region.
    /// Nothing leaves the machine: the HTTPS proxy is a closed loopback port, so the error names the endpoint.
    @Test func publicLoginGoesToTheUSEast1Endpoint() async throws {
        let closedPort = try freePort()
        let result = try await ECRPushCLI.run(
            ["login", "--public", "--no-cache"],
            environment: [
                "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret", "AWS_REGION": "eu-west-1",
                "AWS_MAX_ATTEMPTS": "1", "https_proxy": "http://127.0.0.1:\(closedPort)", "HTTPS_PROXY": "http://127.0.0.1:\(closedPort)"
            ])
        #expect(result.status == 1)
        #expect(result.stderrText.contains("https://api.ecr-public.us-east-1.amazonaws.com"), "\(result.combinedText)")
    }

    /// docker's `credHelpers` for public.ecr.aws: the helper logs in with the endpoint from the config section,
    /// and without AWS credentials says "not found" so docker pulls anonymously.
    @Test func credentialHelperGetForPublicECR() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let setup = try HelperSetup(registry: registry, moto: moto)
        let config = setup.configHome + "/ecrpush/config"
        let existing = try String(contentsOfFile: config, encoding: .utf8)
        try (existing + "\n[registry public.ecr.aws]\nendpoint_url = \(moto.endpoint.absoluteString)\n")
            .write(toFile: config, atomically: true, encoding: .utf8)

        let got = try await setup.helper("get", stdin: "https://public.ecr.aws\n")
        #expect(got.status == 0, "\(got.combinedText)")
        #expect(got.stdoutText == #"{"ServerURL":"https://public.ecr.aws","Username":"AWS","Secret":"\#(registry.password)"}"# + "\n")
        let again = try await setup.helper("get", stdin: "public.ecr.aws")
        #expect(again.status == 0 && again.stdoutText.contains(registry.password))
        #expect(try await moto.counts()["ecr-public:GetAuthorizationToken"] == 1)

        // The endpoint through AWS_ENDPOINT_URL_ECR_PUBLIC instead of the config (STS through AWS_ENDPOINT_URL_STS).
        try existing.write(toFile: config, atomically: true, encoding: .utf8)
        let byEnvironment = try await setup.helper(
            "get", stdin: "public.ecr.aws",
            extra: [
                "ECRPUSH_NO_CACHE": "1", "AWS_ENDPOINT_URL_ECR_PUBLIC": moto.endpoint.absoluteString,
                "AWS_ENDPOINT_URL_STS": moto.endpoint.absoluteString
            ])
        #expect(byEnvironment.status == 0, "\(byEnvironment.combinedText)")
        #expect(try await moto.counts()["ecr-public:GetAuthorizationToken"] == 2)

        let anonymous = try await runProcess(
            setup.helperPath, ["get"], environment: setup.environment([:]),
            inheritEnvironment: false, stdin: Data("public.ecr.aws".utf8))
        #expect(anonymous.status == 1)
        #expect(anonymous.stdoutText == "credentials not found in native keychain\n")
        #expect(anonymous.stderrText.contains("no usable AWS credentials for an ECR Public login"), "\(anonymous.combinedText)")
    }
}
