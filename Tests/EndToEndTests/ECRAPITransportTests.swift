import Foundation
import TestWorld
import Testing

/// `--transport ecr-api`: blobs through ECR's own API (signed, IAM only), into the registry behind motoworld,
/// pulled back with the real docker CLI and run.
@Suite struct ECRAPITransportTests {
    typealias World = BuildAndPushTests.World

    static func start(extraArgs: [String] = []) async throws -> World {
        let registry = try await LoopbackRegistry.shared()
        let docker = try await DockerDaemon.shared()
        return World(registry: registry, docker: docker, moto: try await MotoWorld.start(registry: registry, extraArgs: extraArgs))
    }

    /// A context whose image has a 24 MiB random layer (three parts of 10 MiB) and a 5 MiB one.
    static func bigContext() throws -> TemporaryDirectory {
        let context = TemporaryDirectory()
        try """
        FROM \(DockerDaemon.baseImage)
        RUN head -c 25165824 /dev/urandom > /big
        RUN head -c 5242880 /dev/urandom > /five
        CMD ["sh", "-c", "sha256sum /big /five"]
        """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        return context
    }

    @Test func helloWithoutAnyRegistryPassword() async throws {
        let world = try await Self.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("api-hello")
        let scratch = TemporaryDirectory()
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", Repo.root.appendingPathComponent("examples/hello").path, "--repository", repository,
                "--tag", "v1", "--create-repository", "--transport", "ecr-api", "--registry", world.registry.hostPort,
                "--label", "test=\(repository)", "--no-base-layers"
            ],
            environment: world.environment.merging(["TMPDIR": scratch.path]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "temp space is empty after success")
        let digestLine = try #require(result.stdoutText.split(separator: "\n").last.map(String.init))
        #expect(digestLine.hasPrefix("\(world.registry.hostPort)/\(repository)@sha256:"))

        let counts = try await world.moto.counts()
        #expect(counts["GetAuthorizationToken", default: 0] == 0, "no registry password at any point")
        #expect(counts["InitiateLayerUpload"] == 2, "one layer and the config")
        #expect(counts["PutImage"] == 1)

        let run = try await world.pullAndRun(digestLine)
        #expect(run.status == 0, "\(run.combinedText)")
        #expect(run.stdoutText == "hello\n")

        // A second push of the same image uploads nothing: every blob is reported as present. (The image the build
        // tagged, not a rebuild: concurrent builds of one Dockerfile elsewhere may leave two cache chains.)
        try await world.moto.resetCounts()
        let again = try await ECRPushCLI.run(
            [
                "push", "\(world.registry.hostPort)/\(repository):v1", "--repository", repository,
                "--tag", "v1", "--transport", "ecr-api", "--registry", world.registry.hostPort, "--no-base-layers"
            ],
            environment: world.environment)
        try #require(again.status == 0, "\(again.combinedText)")
        #expect(again.stdoutText.split(separator: "\n").last.map(String.init) == digestLine)
        let second = try await world.moto.counts()
        #expect(second["BatchCheckLayerAvailability"] == 2, "one check per blob as each is ready (no blob cache here)")
        #expect(second["InitiateLayerUpload", default: 0] == 0)
        #expect(second["UploadLayerPart", default: 0] == 0)
        #expect(again.stderrText.contains("Layer already exists"))
    }

    @Test func largeLayersGoInSeveralPartsAndAResumedPartEndsComplete() async throws {
        // The second part ever uploaded arrives cut in half: the push resumes from lastValidByteReceived.
        let world = try await Self.start(extraArgs: ["--fault-truncate-part", "2"])
        defer { world.moto.stop() }
        let context = try Self.bigContext()
        let repository = BuildAndPushTests.uniqueName("api-big")
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "big", "--create-repository",
                "--transport", "ecr-api", "--registry", world.registry.hostPort, "--compression-level", "1"
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let counts = try await world.moto.counts()
        #expect(result.stderrText.contains("resuming from byte"), "the cut part was resumed, not restarted")
        // 24 MiB in parts of 10 MiB, never a new upload session for the cut one.
        #expect(counts["CompleteLayerUpload"] == counts["InitiateLayerUpload"])

        let local = try await world.docker.docker(["run", "--rm", "--network", "none", "\(world.registry.hostPort)/\(repository):big"])
        let digestLine = try #require(result.stdoutText.split(separator: "\n").last.map(String.init))
        let pulled = try await world.pullAndRun(digestLine)
        #expect(pulled.status == 0, "\(pulled.combinedText)")
        #expect(!local.stdoutText.isEmpty)
        #expect(pulled.stdoutText == local.stdoutText, "the pulled image holds the same bytes")
    }

    /// A layer of 16 MiB or more goes up while it is compressed: its upload session starts with the compression and
    /// each part leaves as the file reaches its end, so the progress names it by its archive entry (its digest is not
    /// known yet), never by its digest as a finished file's upload would. Nothing falls back to the finished file.
    @Test func aBigLayerIsSentWhileItIsCompressed() async throws {
        let world = try await Self.start()
        defer { world.moto.stop() }
        let context = try Self.bigContext()
        let repository = BuildAndPushTests.uniqueName("api-growing")
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--create-repository",
                "--transport", "ecr-api", "--registry", world.registry.hostPort, "--no-base-layers"
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(!result.stderrText.contains("could not be sent while it was compressed"), "\(result.stderrText)")
        let manifest = try await world.registry.manifest(repository: repository, reference: "v1")
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        let big = try #require(layers.first { ($0["size"] as? Int ?? 0) > 20 << 20 }?["digest"] as? String)
        let digestID = String(big.dropFirst("sha256:".count).prefix(12))
        let pushedLines = result.stderrText.split(separator: "\n").filter { $0.contains(": Pushed 24.0MiB") }
        #expect(pushedLines.count == 1 && !pushedLines[0].hasPrefix(digestID), "named by its entry, not \(digestID): \(result.stderrText)")
        let counts = try await world.moto.counts()
        #expect(counts["CompleteLayerUpload"] == counts["InitiateLayerUpload"], "no upload session abandoned")
        #expect(counts["UploadLayerPart", default: 0] >= 3 + 1 + 1 + 1, "24 MiB in parts of at most 10 MiB, then the others")

        let local = try await world.docker.docker(["run", "--rm", "--network", "none", "\(world.registry.hostPort)/\(repository):v1"])
        let pulled = try await world.pullAndRun(
            "\(world.registry.hostPort)/\(repository)@\(try #require(result.stdoutText.split(separator: "@").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }))"
        )
        #expect(pulled.status == 0 && !local.stdoutText.isEmpty && pulled.stdoutText == local.stdoutText, "\(pulled.combinedText)")
    }

    @Test func immutableTagsAndMissingRepository() async throws {
        let world = try await Self.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("api-immutable")
        let missing = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--transport", "ecr-api"],
            environment: world.environment)
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("does not exist"))

        let first = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--transport", "ecr-api",
                "--create-repository", "--image-tag-mutability", "IMMUTABLE", "--registry", world.registry.hostPort
            ],
            environment: world.environment)
        try #require(first.status == 0, "\(first.combinedText)")
        let same = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--transport", "ecr-api",
                "--registry", world.registry.hostPort
            ],
            environment: world.environment)
        #expect(same.status == 0, "pushing the same image under an immutable tag again is a success: \(same.combinedText)")

        let context = TemporaryDirectory()
        try "FROM \(DockerDaemon.baseImage)\nRUN echo other > /other\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let other = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--transport", "ecr-api",
                "--registry", world.registry.hostPort
            ],
            environment: world.environment)
        #expect(other.status == 1)
        #expect(other.stderrText.contains("tag 'v1' already exists"))
        #expect(other.stderrText.contains("immutable"))
    }

    /// A principal allowed ecr:* but denied ecr:UploadLayerPart: the error names the action and the repository.
    @Test func accessDeniedOnUploadLayerPartIsNamed() async throws {
        let world = try await Self.start()
        defer { world.moto.stop() }
        let setup = try await runPython(
            """
            import boto3, json, os
            iam = boto3.client("iam", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
            iam.create_user(UserName="no-upload")
            policy = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["ecr:*", "sts:GetCallerIdentity"], "Resource": "*"},
                {"Effect": "Deny", "Action": "ecr:UploadLayerPart", "Resource": "*"}]}
            iam.put_user_policy(UserName="no-upload", PolicyName="deny-upload", PolicyDocument=json.dumps(policy))
            key = iam.create_access_key(UserName="no-upload")["AccessKey"]
            print(key["AccessKeyId"], key["SecretAccessKey"])
            """, environment: world.moto.awsEnvironment(.admin))
        try #require(setup.status == 0, "\(setup.combinedText)")
        let keys = setup.stdoutText.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        try #require(keys.count == 2)
        var environment = world.moto.awsEnvironment(.admin)
        environment["AWS_ACCESS_KEY_ID"] = keys[0]
        environment["AWS_SECRET_ACCESS_KEY"] = keys[1]
        environment["DOCKER_HOST"] = world.docker.host
        let scratch = TemporaryDirectory()
        environment["TMPDIR"] = scratch.path
        let repository = BuildAndPushTests.uniqueName("api-denied")
        let result = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--transport", "ecr-api",
                "--create-repository"
            ],
            environment: environment)
        #expect(result.status == 1)
        #expect(result.stderrText.contains("denied (UploadLayerPart)"), "\(result.stderrText)")
        #expect(result.stderrText.contains(repository))
        #expect(!result.stderrText.contains(keys[1]))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "temp space is empty after failure")
    }

    /// A new tag whose image is built on one pulled from the same repository: the base's manifest is read through
    /// ECR's API (BatchGetImage), its layers found there (BatchCheckLayerAvailability on the base's digests), and
    /// neither compressed nor uploaded again.
    @Test func aBaseFromTheSameRepositoryIsNotUploadedAgain() async throws {
        let world = try await Self.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("api-base")
        let baseName = try await Self.pushAndPullBase(world, repository: repository, megabytes: 4)

        let app = try await AutoTransportTests.build(world, from: baseName, megabytes: 1)
        try await world.moto.resetCounts()
        let result = try await ECRPushCLI.run(
            [
                "push", app, "--repository", repository, "--tag", "app", "--transport", "ecr-api", "--registry", world.registry.hostPort,
                "--no-blob-cache"
            ], environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("2 layers of \(baseName.replacingOccurrences(of: ":base", with: ""))@sha256:"), "\(result.stderrText)")
        #expect(result.stderrText.contains("recognised in the export and not compressed"), "\(result.stderrText)")
        let counts = try await world.moto.counts()
        #expect(counts["BatchGetImage", default: 0] >= 1, "the base's manifest read through ECR's API")
        #expect(counts["InitiateLayerUpload"] == 2, "the app's layer and the config only: \(counts)")
        #expect(counts["GetAuthorizationToken", default: 0] == 0)
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):app")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
    }

    /// A base of `megabytes` pushed to `repository` (tag `base`) with `ecr-api`, or with `docker push` to the
    /// registry directly (moto then has no record of it; motoworld's BatchGetImage reads it from the registry, as
    /// ECR's API sees what its registry holds), and pulled back, as a CI runner pulls its base: the local image
    /// then has a RepoDigest in this registry.
    static func pushAndPullBase(
        _ world: BuildAndPushTests.World, repository: String, megabytes: Int, withDocker: Bool = false
    ) async throws -> String {
        let base = try await AutoTransportTests.build(world, from: DockerDaemon.baseImage, megabytes: megabytes)
        let baseName = "\(world.registry.hostPort)/\(repository):base"
        let config = TemporaryDirectory()
        let cli = ["--config", config.path, "-H", world.docker.host]
        let login = try await runProcess(
            "docker", cli + ["login", "--username", "AWS", "--password-stdin", world.registry.hostPort], stdin: Data(world.registry.password.utf8))
        try #require(login.status == 0, "\(login.combinedText)")
        let pushedBase =
            withDocker
            ? try await pushedWithDocker(world, base: base, as: baseName, repository: repository, cli: cli)
            : try await ECRPushCLI.run(
                [
                    "push", base, "--repository", repository, "--tag", "base", "--create-repository", "--transport", "ecr-api",
                    "--registry", world.registry.hostPort
                ], environment: world.environment)
        try #require(pushedBase.status == 0, "\(pushedBase.combinedText)")
        _ = try await runProcess("docker", cli + ["rmi", "-f", base, baseName])
        let pull = try await runProcess("docker", cli + ["pull", baseName])
        try #require(pull.status == 0, "\(pull.combinedText)")
        return baseName
    }

    /// `docker push` of `base` as `name`, into a repository created through ECR's API (where the registry has it).
    static func pushedWithDocker(
        _ world: BuildAndPushTests.World, base: String, as name: String, repository: String, cli: [String]
    ) async throws -> ProcessResult {
        let created = try await runPython(
            """
            import boto3, os, sys
            boto3.client("ecr", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"]).create_repository(
                repositoryName=sys.argv[1])
            """, arguments: [repository], environment: world.moto.awsEnvironment(.admin))
        guard created.status == 0 else { return created }
        let tag = try await runProcess("docker", cli + ["tag", base, name])
        guard tag.status == 0 else { return tag }
        return try await runProcess("docker", cli + ["push", name])
    }

    /// A base from another repository of the same registry, which ECR's API cannot mount: each of its layers is
    /// copied from its download URL (GetDownloadUrlForLayer) in parts of 10 MiB, `Range` reads (206) while the part
    /// before goes up, so the app's manifest names the base's own blobs, none compressed again. The base was pushed
    /// with `docker push`, as most bases are: its manifest is read through ECR's API all the same.
    /// The second part ECR receives (one of the copies': the app's layer waits for the base's) arrives cut in half,
    /// and the copy goes on from the last byte ECR kept, on the same upload: no upload is started twice.
    @Test func aBaseFromAnotherRepositoryIsCopiedThroughItsDownloadURL() async throws {
        let world = try await Self.start(extraArgs: ["--fault-truncate-part", "2"])
        defer { world.moto.stop() }
        let baseRepository = BuildAndPushTests.uniqueName("api-base")
        let baseName = try await Self.pushAndPullBase(world, repository: baseRepository, megabytes: 12, withDocker: true)
        let app = try await AutoTransportTests.build(world, from: baseName, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("api-app")
        try await world.moto.resetCounts()
        let result = try await ECRPushCLI.run(
            [
                "push", app, "--repository", repository, "--tag", "app", "--create-repository", "--transport", "ecr-api",
                "--registry", world.registry.hostPort, "--no-blob-cache"
            ], environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Copied from \(baseRepository)"), "\(result.stderrText)")
        let baseDigests = try await AutoTransportTests.layerDigests(world, repository: baseRepository, reference: "base")
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "app")
        try #require(baseDigests.count == 2, "\(baseDigests)")
        #expect(appDigests.count == 3 && Array(appDigests.prefix(2)) == baseDigests, "the base's own blobs: \(result.stderrText)")
        let counts = try await world.moto.counts()
        #expect(counts["GetDownloadUrlForLayer"] == 2, "one URL per base layer: \(counts)")
        #expect(counts["LayerDownloadPart"] == 3 && counts["LayerDownload", default: 0] == 0, "1 + 2 parts, each a range: \(counts)")
        #expect(counts["InitiateLayerUpload"] == 4, "two copies, the app's layer and the config: \(counts)")
        #expect(counts["CompleteLayerUpload"] == 4, "the cut part resumed, not the copy abandoned: \(counts)")
        #expect(counts["UploadLayerPart"] == 6, "3 parts of the copies, one resumed, and 2 of the app: \(counts)")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):app")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
    }
}
