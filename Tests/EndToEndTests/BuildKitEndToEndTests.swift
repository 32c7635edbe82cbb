import Foundation
import TestWorld
import Testing

/// `ecrpush build-and-push` with BuildKit, end to end: a private base image pulled through the build session with
/// the login ecrpush got from moto (nobody runs docker login), secrets that reach the build and nothing else, and
/// plain progress in logs.
@Suite struct BuildKitEndToEndTests {
    typealias World = BuildAndPushTests.World

    /// The base lives only in the loopback registry (basic auth, as ECR's), under a repository of its own; the
    /// Engine has no login for it: BuildKit asks the session, and ecrpush answers with its ECR login.
    @Test func privateBaseImageIsPulledThroughTheSession() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let baseRepository = BuildAndPushTests.uniqueName("bk-base")
        let pushed = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", baseRepository, "--tag", "v1", "--create-repository", "-q"],
            environment: world.environment)
        try #require(pushed.status == 0, "\(pushed.combinedText)")
        let base = "\(world.registry.hostPort)/\(baseRepository):v1"
        _ = try await world.docker.docker(["rmi", "-f", base])
        #expect(try await world.docker.docker(["image", "inspect", base]).status != 0, "the base must not be in the Engine")

        let context = TemporaryDirectory()
        try "FROM \(base)\nRUN echo built-on-private-base > /marker\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let repository = BuildAndPushTests.uniqueName("bk-app")
        let result = try await ECRPushCLI.run(
            ["build-and-push", context.path, "--repository", repository, "--tag", "v1", "--create-repository", "--progress", "plain"],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let stderr = result.stderrText
        #expect(stderr.contains("Build session: registry login for \(world.registry.hostPort) given to the build"), "\(stderr)")
        #expect(stderr.range(of: #"#\d+ \[1/2\] FROM "# + NSRegularExpression.escapedPattern(for: base), options: .regularExpression) != nil)
        #expect(stderr.range(of: #"#\d+ DONE \d+\.\ds"#, options: .regularExpression) != nil)
        #expect(!stderr.contains(world.registry.password) && !result.stdoutText.contains(world.registry.password))

        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1", command: ["cat", "/marker"])
        #expect(run.status == 0, "\(run.combinedText)")
        #expect(run.stdoutText == "built-on-private-base\n")
    }

    /// A secret from a file and one from the environment are readable in the RUN that mounts them, and appear in
    /// no pushed blob (each decompressed and searched), in no output, and in no argument.
    @Test func secretsReachTheBuildAndNoPushedBlob() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let fileValue = "file-secret-\(UUID().uuidString)"
        let envValue = "env-secret-\(UUID().uuidString)"
        let context = TemporaryDirectory()
        let secretFile = TemporaryDirectory()
        try fileValue.write(toFile: secretFile.path + "/token", atomically: true, encoding: .utf8)
        try """
        FROM \(DockerDaemon.baseImage)
        RUN --mount=type=secret,id=token --mount=type=secret,id=npm \\
            cat /run/secrets/token /run/secrets/npm | sha256sum | cut -c1-64 > /digest
        """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let repository = BuildAndPushTests.uniqueName("bk-secret")
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--create-repository", "--progress", "plain",
                "--secret", "id=token,src=\(secretFile.path)/token", "--secret", "id=npm,env=BK_NPM_TOKEN", "--no-cache"
            ],
            environment: world.environment.merging(["BK_NPM_TOKEN": envValue]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        for value in [fileValue, envValue] { #expect(!result.combinedText.contains(value)) }

        let expected = try await runProcess("sh", ["-c", "printf %s \"$1$2\" | sha256sum | cut -c1-64", "sh", fileValue, envValue])
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1", command: ["cat", "/digest"])
        #expect(run.stdoutText == expected.stdoutText, "\(run.combinedText)")

        // Every blob the registry holds for the image: the config (history included) and each layer, decompressed.
        let manifest = try await world.registry.manifest(repository: repository, reference: "v1")
        let config = try #require(manifest["config"] as? [String: Any])
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        let scratch = TemporaryDirectory()
        for (index, blob) in ([config] + layers).enumerated() {
            let digest = try #require(blob["digest"] as? String)
            let bytes = try await world.registry.blob(repository: repository, digest: digest)
            try bytes.write(to: URL(fileURLWithPath: "\(scratch.path)/\(index)"))
        }
        let search = try await runProcess(
            "sh",
            [
                "-c",
                "cd \"$1\" && for f in [0-9]*; do zcat -f \"$f\"; done > ../all.$$ && grep -c -e \"$2\" -e \"$3\" ../all.$$; "
                    + "grep -c \"$4\" ../all.$$; rm -f ../all.$$",
                "sh", scratch.path, fileValue, envValue, expected.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            ])
        // The second count shows the search reads the layers' content: the digest the RUN wrote is found.
        #expect(search.stdoutText == "0\n1\n", "\(search.combinedText)")
    }

    /// `--cache-to inline` on one Engine, `--cache-from` of the pushed image on another that never built it: the
    /// RUN step is CACHED and its layer (random bytes, so never made twice alike) is the same blob.
    @Test func cacheFromAPushedImageReusesItsLayersOnAnotherEngine() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let baseRepository = BuildAndPushTests.uniqueName("bk-cbase")
        let pushed = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", baseRepository, "--tag", "v1", "--create-repository", "-q"],
            environment: world.environment)
        try #require(pushed.status == 0, "\(pushed.combinedText)")
        let context = TemporaryDirectory()
        try "FROM \(world.registry.hostPort)/\(baseRepository):v1\nRUN head -c 200000 /dev/urandom > /random\n"
            .write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let repository = BuildAndPushTests.uniqueName("bk-cache")
        let first = try await ECRPushCLI.run(
            ["build-and-push", context.path, "--repository", repository, "--tag", "v1", "--create-repository", "--cache-to", "inline", "-q"],
            environment: world.environment)
        try #require(first.status == 0, "\(first.combinedText)")

        // An Engine of its own, stopped here (and by WorldCleanup's watchdog if the test dies first).
        let fresh = try await DockerDaemon.start()
        let cacheImage = "\(world.registry.hostPort)/\(repository):v1"
        let second: ProcessResult
        do {
            second = try await ECRPushCLI.run(
                [
                    "build-and-push", context.path, "--repository", repository, "--tag", "v2", "--cache-from", cacheImage, "--progress",
                    "plain"
                ],
                environment: world.environment.merging(["DOCKER_HOST": fresh.host]) { $1 })
        } catch {
            await fresh.stop()
            throw error
        }
        await fresh.stop()
        try #require(second.status == 0, "\(second.combinedText)")
        #expect(second.stderrText.range(of: #"#\d+ CACHED"#, options: .regularExpression) != nil, "\(second.stderrText)")
        // The layers' content (diffIDs: the transport may compress a base layer differently from one push to the next).
        func diffIDs(_ tag: String) async throws -> [String] {
            let manifest = try await world.registry.manifest(repository: repository, reference: tag)
            let digest = try #require((manifest["config"] as? [String: Any])?["digest"] as? String)
            let config = try await world.registry.blob(repository: repository, digest: digest)
            let object = try JSONSerialization.jsonObject(with: config) as? [String: Any]
            return (object?["rootfs"] as? [String: Any])?["diff_ids"] as? [String] ?? []
        }
        let one = try await diffIDs("v1")
        #expect(one.count == 2)
        #expect(one == (try await diffIDs("v2")), "the RUN layer came from the cache, not from running it again")
    }

    /// Malformed BuildKit flags are usage errors (exit 64) before the Engine is reached (DOCKER_HOST leads nowhere).
    @Test func badBuildKitFlagsAreUsageErrors() async throws {
        let context = TemporaryDirectory()
        try "FROM scratch\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let cases: [([String], String)] = [
            (["--secret", "mysecretvalue"], "key=value"), (["--secret", "id=a"], "src=FILE"), (["--secret", "id=a,colour=red"], "unknown field"),
            (["--secret", "id=a,env=A", "--secret", "id=a,src=/x"], "given twice"), (["--secret", "id=a,env=A", "--builder", "classic"], "BuildKit"),
            (["--cache-to", "type=registry,ref=x"], "only inline"), (["--builder", "magic"], "--builder"), (["--progress", "fancy"], "--progress"),
            (["--cache-from", "type=local,src=/x"], "--cache-from"), (["--ssh", "default"], "SSH_AUTH_SOCK is not set"),
            (["--ssh", "deploy=\(context.path)/Dockerfile"], "not key files"), (["--ssh", "deploy=/nonexistent.sock"], "no agent socket"),
            (["--ssh", "deploy=/a.sock,/b.sock"], "one agent socket"), (["--ssh", "a=/x.sock", "--ssh", "a=/y.sock"], "given twice"),
            (["--ssh", "default", "--builder", "classic"], "--ssh needs BuildKit")
        ]
        for (arguments, problem) in cases {
            for command in [["build", context.path], ["build-and-push", context.path, "--repository", "app", "--tag", "v1"]] {
                let result = try await ECRPushCLI.run(
                    command + arguments, environment: ["DOCKER_HOST": "unix:///nonexistent/docker.sock", "SSH_AUTH_SOCK": ""])
                #expect(result.status == 64, "\(arguments): \(result.combinedText)")
                #expect(result.stderrText.contains(problem), "\(arguments): \(result.stderrText)")
                #expect(!result.stderrText.contains("cannot reach"), "\(arguments): refused before the Engine is asked")
            }
        }
    }
}
