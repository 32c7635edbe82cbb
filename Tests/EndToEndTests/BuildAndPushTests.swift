import Foundation
import TestWorld
import Testing

/// `ecrpush build-and-push` and `push` end to end: moto (STS/ECR, signatures checked), the distribution registry
/// with basic auth behind the ECR token, and a real dockerd. Images are pulled back with the docker CLI and run.
@Suite struct BuildAndPushTests {
    struct World {
        let registry: LoopbackRegistry
        let docker: DockerDaemon
        let moto: MotoWorld

        var environment: [String: String] {
            moto.containeriseEnvironment.merging(["DOCKER_HOST": docker.host]) { $1 }
        }

        static func start() async throws -> World {
            let registry = try await LoopbackRegistry.shared()
            let docker = try await DockerDaemon.shared()
            return World(registry: registry, docker: docker, moto: try await MotoWorld.start(registry: registry))
        }

        /// Pulls with a fresh docker config logged in through stdin, then runs the image without network.
        func pullAndRun(_ reference: String, command: [String] = []) async throws -> ProcessResult {
            let config = TemporaryDirectory()
            let base = ["--config", config.path, "-H", docker.host]
            let login = try await runProcess(
                "docker", base + ["login", "--username", "AWS", "--password-stdin", registry.hostPort],
                stdin: Data(registry.password.utf8))
            guard login.status == 0 else { return login }
            _ = try await runProcess("docker", base + ["rmi", "-f", reference])
            let pull = try await runProcess("docker", base + ["pull", reference])
            guard pull.status == 0 else { return pull }
            return try await runProcess("docker", base + ["run", "--rm", "--network", "none", reference] + command)
        }
    }

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The default transport (registry) and the Engine's own push (daemon).
    @Test(arguments: [[], ["--transport", "daemon"]])
    func helloExampleIsBuiltPushedPulledAndRun(transport: [String]) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = Self.uniqueName("hello")
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", Repo.root.appendingPathComponent("examples/hello").path,
                "--repository", repository, "--tag", "v1", "--create-repository",
                // An image of this test's own: other tests that build examples/hello may remove theirs meanwhile.
                "--label", "test=\(repository)"
            ] + transport,
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines.first == "\(world.registry.hostPort)/\(repository):v1")
        let digestLine = try #require(lines.last)
        #expect(digestLine.hasPrefix("\(world.registry.hostPort)/\(repository)@sha256:"))
        #expect(result.stderrText.contains("Created repository \(repository)"))

        let run = try await world.pullAndRun(digestLine)
        #expect(run.status == 0, "\(run.combinedText)")
        #expect(run.stdoutText == "hello\n")
        let counts = try await world.moto.counts()
        #expect(counts["AssumeRole"] == 1)
        #expect(counts["CreateRepository"] == 1)
    }

    @Test func missingRepositoryIsSaidBeforeBuilding() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = Self.uniqueName("absent")
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", Repo.root.appendingPathComponent("examples/hello").path,
                "--repository", repository, "--tag", "v1"
            ],
            environment: world.environment)
        #expect(result.status == 1)
        #expect(result.stderrText.contains("repository '\(repository)' does not exist"))
        #expect(result.stderrText.contains("--create-repository"))
        let inspect = try await world.docker.docker(["image", "inspect", "\(world.registry.hostPort)/\(repository):v1"])
        #expect(inspect.status != 0, "nothing must be built when the repository is missing")
    }

    @Test func buildFlagsIgnoreFilesTagsJSONAndGitHubOutput() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let context = TemporaryDirectory()
        try """
        FROM \(DockerDaemon.baseImage) AS base
        ARG GREETING=unset
        RUN echo "$GREETING" > /greeting
        COPY . /ctx/
        FROM base AS final
        RUN echo final > /stage
        """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        try "secret-ish\n".write(toFile: context.path + "/ignored.txt", atomically: true, encoding: .utf8)
        try "kept\n".write(toFile: context.path + "/kept.txt", atomically: true, encoding: .utf8)
        try "ignored.txt\n".write(toFile: context.path + "/.dockerignore", atomically: true, encoding: .utf8)
        let outputFile = context.path + "/github-output"
        _ = FileManager.default.createFile(atPath: outputFile, contents: Data("earlier=1\n".utf8))

        let repository = Self.uniqueName("flags")
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "a", "--tag", "b",
                "--build-arg", "GREETING=hi there", "--target", "base", "--label", "team=core",
                "--create-repository", "--output", "json", "-q"
            ],
            environment: world.environment.merging(["GITHUB_OUTPUT": outputFile]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.isEmpty, "-q keeps stderr quiet: \(result.stderrText)")
        let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect(json["repository"] as? String == repository)
        #expect(json["tags"] as? [String] == ["a", "b"])
        #expect(json["registry"] as? String == world.registry.hostPort)
        let digest = try #require(json["digest"] as? String)
        #expect(json["imageUri"] as? String == "\(world.registry.hostPort)/\(repository)@\(digest)")

        let githubOutput = try String(contentsOfFile: outputFile, encoding: .utf8)
        #expect(
            githubOutput
                == "earlier=1\nimage=\(world.registry.hostPort)/\(repository)@\(digest)\ndigest=\(digest)\nregistry=\(world.registry.hostPort)\n")

        let run = try await world.pullAndRun(
            "\(world.registry.hostPort)/\(repository):b",
            command: ["sh", "-c", "cat /greeting; ls /ctx; test -e /stage && echo has-final-stage || echo no-final-stage"])
        #expect(run.status == 0, "\(run.combinedText)")
        let output = run.stdoutText
        #expect(output.contains("hi there"))
        #expect(output.contains("kept.txt"))
        #expect(!output.contains("ignored.txt"))
        #expect(output.contains("no-final-stage"))
        let labels = try await world.docker.docker([
            "image", "inspect", "--format", "{{index .Config.Labels \"team\"}}",
            "\(world.registry.hostPort)/\(repository):a"
        ])
        #expect(labels.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "core")
    }

    /// BuildKit (the default here) and the classic builder each say the failing step, its output and the exit code.
    @Test(arguments: [[], ["--builder", "classic"]])
    func failingRunStepShowsItsOutputAndFails(builder: [String]) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let context = TemporaryDirectory()
        try "FROM \(DockerDaemon.baseImage)\nRUN echo about-to-fail && exit 3\n"
            .write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let result = try await ECRPushCLI.run(
            ["build-and-push", context.path, "--repository", Self.uniqueName("failing"), "--tag", "x", "--create-repository", "-q"] + builder,
            environment: world.environment)
        #expect(result.status == 1)
        // Even with -q, the error names the step and its last lines.
        #expect(result.stderrText.contains("about-to-fail"))
        #expect(result.stderrText.contains(builder.isEmpty ? "exit code: 3" : "non-zero code: 3"), "\(result.stderrText)")
        if builder.isEmpty { #expect(result.stderrText.contains("the build failed at [2/2] RUN echo about-to-fail && exit 3")) }
        #expect(result.stdoutText.isEmpty)
    }

    /// A build context whose Dockerfile's RUN step exits 3.
    static func contextOfAFailingBuild() throws -> TemporaryDirectory {
        let context = TemporaryDirectory()
        try "FROM \(DockerDaemon.baseImage)\nRUN exit 3\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        return context
    }

    /// `--create-repository` makes the repository while the login is under way, before the build: a build that fails
    /// removes it again, in one destination or several, through either transport, so a failed run leaves no empty
    /// repository behind (with settings chosen by a run that pushed nothing).
    @Test func aFailedBuildRemovesTheRepositoriesItCreated() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let context = try Self.contextOfAFailingBuild()
        let (one, two) = (Self.uniqueName("failed-one"), Self.uniqueName("failed-two"))
        // `one` is created each time: each run before removed it.
        for (repositories, transport) in [([one], "auto"), ([one, two], "auto"), ([one], "ecr-api")] {
            let result = try await ECRPushCLI.run(
                ["build-and-push", context.path, "--tag", "x", "--create-repository", "--transport", transport]
                    + repositories.flatMap { ["--repository", $0] },
                environment: world.environment)
            #expect(result.status == 1, "\(result.combinedText)")
            for repository in repositories {
                #expect(result.stderrText.contains("Created repository \(repository)"), "\(result.stderrText)")
                #expect(result.stderrText.contains("Removed repository \(repository), which this run created"), "\(result.stderrText)")
            }
        }
        // Gone indeed: a push that does not create it is told so.
        let push = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", two, "--tag", "x"], environment: world.environment)
        #expect(push.status == 1)
        #expect(push.stderrText.contains("repository '\(two)' does not exist"), "\(push.stderrText)")
    }

    /// Where the role may not delete repositories, the one a failed build leaves is named, with the command that
    /// removes it.
    @Test func aRepositoryTheRoleMayNotDeleteIsSaidToStay() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let denied = try await runPython(
            """
            import boto3, json, os
            iam = boto3.client("iam", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
            iam.put_role_policy(RoleName="ecr-pusher", PolicyName="keep-repositories", PolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "*"}]}))
            """, environment: world.moto.awsEnvironment(.admin))
        try #require(denied.status == 0, "\(denied.combinedText)")
        let context = try Self.contextOfAFailingBuild()
        let repository = Self.uniqueName("failed-kept")
        let arguments = ["build-and-push", context.path, "--repository", repository, "--tag", "x", "--create-repository"]
        let result = try await ECRPushCLI.run(arguments, environment: world.environment)
        #expect(result.status == 1, "\(result.combinedText)")
        #expect(
            result.stderrText.contains("Repository \(repository), which this run created, stays although the build did not finish"),
            "\(result.stderrText)")
        #expect(result.stderrText.contains("ecr:DeleteRepository"), "the refusal says what was refused: \(result.stderrText)")
        #expect(result.stderrText.contains("`aws ecr delete-repository --repository-name \(repository)` removes it"))
        let again = try await ECRPushCLI.run(arguments, environment: world.environment)
        #expect(!again.stderrText.contains("Created repository"), "it stayed: \(again.stderrText)")
    }

    @Test func pushOfALocalImageAndDefaultTagFromGit() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = Self.uniqueName("pushed")
        let created = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository,
                "--create-repository", "--image-tag-mutability", "IMMUTABLE"
            ],
            environment: world.environment, currentDirectory: Repo.root)
        try #require(created.status == 0, "\(created.combinedText)")
        // The repository's checkout has commits: the default tag is the short commit.
        let head = try await runProcess("git", ["-C", Repo.root.path, "rev-parse", "--short=7", "HEAD"])
        let commit = head.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        if head.status == 0, !commit.isEmpty {
            #expect(created.stdoutText.contains("\(world.registry.hostPort)/\(repository):\(commit)"))
            #expect(created.stderrText.contains("git commit \(commit)"))
        }
        let missing = try await ECRPushCLI.run(
            ["push", "no-such-image:nope", "--repository", repository, "--tag", "t"],
            environment: world.environment)
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("no such image: no-such-image:nope"), "\(missing.stderrText)")
        // The Engine's answer is said first, whatever AWS answers: here nothing listens at the endpoint.
        for transport in ["auto", "ecr-api"] {
            let unreachable = try await ECRPushCLI.run(
                ["push", "no-such-image:nope", "--repository", repository, "--tag", "t", "--transport", transport],
                environment: world.environment.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:\(try freePort())", "AWS_MAX_ATTEMPTS": "1"]) { $1 })
            #expect(unreachable.status == 1)
            #expect(unreachable.stderrText.contains("no such image: no-such-image:nope"), "\(transport): \(unreachable.stderrText)")
        }
    }

    @Test func missingDaemonIsSaidFirst() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let result = try await ECRPushCLI.run(
            ["build-and-push", Repo.root.appendingPathComponent("examples/hello").path, "--repository", "hello", "--tag", "v1"],
            environment: moto.containeriseEnvironment.merging(["DOCKER_HOST": "unix:///tmp/ecrpush-no-daemon.sock"]) { $1 })
        #expect(result.status == 1)
        #expect(result.stderrText.contains("/tmp/ecrpush-no-daemon.sock"))
        #expect(result.stderrText.lowercased().contains("docker daemon"))
        let counts = try await moto.counts()
        #expect(counts["AssumeRole", default: 0] == 0, "no AWS call before the daemon is known to answer")
    }

    @Test func badArgumentsExit64() async throws {
        let invalidRepository = try await ECRPushCLI.run(["push", "x", "--repository", "Bad_Name!"], environment: [:])
        #expect(invalidRepository.status == 64)
        let invalidTag = try await ECRPushCLI.run(["push", "x", "--repository", "ok", "--tag", "-bad"], environment: [:])
        #expect(invalidTag.status == 64)
        let missingContext = try await ECRPushCLI.run(
            ["build-and-push", "/nonexistent/context", "--repository", "ok", "--tag", "t"],
            environment: [:])
        #expect(missingContext.status == 1)
        #expect(missingContext.stderrText.contains("/nonexistent/context"))
    }

    @Test func missingDockerfileAndUnreachableRegistry() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let context = TemporaryDirectory()
        let repository = Self.uniqueName("errors")
        let noDockerfile = try await ECRPushCLI.run(
            ["build-and-push", context.path, "--repository", repository, "--tag", "x", "--create-repository"],
            environment: world.environment)
        #expect(noDockerfile.status == 1)
        #expect(noDockerfile.stderrText.contains("Dockerfile"), "\(noDockerfile.stderrText)")

        let closedPort = try freePort()
        let unreachable = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "x", "--create-repository",
                "--registry", "127.0.0.1:\(closedPort)"
            ],
            environment: world.environment)
        #expect(unreachable.status == 1)
        #expect(unreachable.stderrText.contains("127.0.0.1:\(closedPort)"), "\(unreachable.stderrText)")
        #expect(unreachable.stdoutText.isEmpty, "no image reference is printed for a push that did not happen")
        // Given up on once the first request has spent its retries (its two blobs' checks run together, five
        // retries each at most); before, every request and the Engine's retries through the relay ran their whole
        // schedules: about 90 retry lines over 74 s.
        #expect(unreachable.stderrText.contains("has not answered at all, so ecrpush gave up on it"), "\(unreachable.stderrText)")
        let retries = unreachable.stderrText.split(separator: "\n").filter { $0.hasPrefix("retrying ") }
        #expect(retries.count <= 15, "\(retries.count) retries: \(unreachable.stderrText)")
    }

    /// Run as an unprivileged user (nobody) against the root-owned socket: the fix is said, not just EACCES.
    @Test func permissionDeniedOnTheSocket() async throws {
        let docker = try await DockerDaemon.shared()
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let result = try await runProcess(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups", ECRPushCLI.binary,
                "build", Repo.root.appendingPathComponent("examples/hello").path, "-t", "x"
            ],
            environment: ["DOCKER_HOST": docker.host, "HOME": "/tmp"])
        #expect(result.status == 1)
        #expect(result.stderrText.contains("permission denied"), "\(result.stderrText)")
        #expect(result.stderrText.contains("docker' group"))
    }
}
