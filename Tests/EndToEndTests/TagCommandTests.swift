import Foundation
import TestWorld
import Testing

/// `ecrpush tag`: new tags through BatchGetImage and PutImage only. Every registry request of the world (ecrpush's
/// own and those motoworld makes to store what PutImage gets) goes through tools/faultproxy.py, whose log shows
/// that tagging sends no blob request at all.
@Suite struct TagCommandTests {
    struct World {
        let registry: LoopbackRegistry
        let proxy: FaultProxy
        let docker: DockerDaemon
        let moto: MotoWorld

        var environment: [String: String] {
            moto.containeriseEnvironment.merging(["DOCKER_HOST": docker.host]) { $1 }
        }

        static func start() async throws -> World {
            let registry = try await LoopbackRegistry.shared()
            let proxy = try await FaultProxy.start(for: registry)
            let url = "http://\(proxy.hostPort)"
            let moto = try await MotoWorld.start(extraArgs: [
                "--registry", url, "--registry-user", registry.username, "--registry-password", registry.password, "--proxy-endpoint", url
            ])
            return World(registry: registry, proxy: proxy, docker: try await DockerDaemon.shared(), moto: moto)
        }

        func stop() {
            moto.stop()
            proxy.stop()
        }

        /// `ecrpush push` of `image` (the base image by default) to `repository:tag`; returns the digest. Through ECR's API:
        /// in this world only PutImage tells moto about an image (a registry push goes to the registry alone).
        func push(
            _ repository: String, tag: String, image: String = DockerDaemon.baseImage, extra: [String] = ["--create-repository"]
        ) async throws -> String {
            let pushed = try await ECRPushCLI.run(
                [
                    "push", image, "--repository", repository, "--tag", tag, "--registry", proxy.hostPort, "--output", "json",
                    "--transport", "ecr-api"
                ] + extra,
                environment: environment)
            try #require(pushed.status == 0, "\(pushed.combinedText)")
            let object = try #require(try JSONSerialization.jsonObject(with: pushed.stdout) as? [String: Any])
            return try #require(object["digest"] as? String)
        }
    }

    /// A second local image, different from the base (a label only: nothing to run, built in a second).
    static func otherImage(docker: DockerDaemon, label: String) async throws -> String {
        let context = TemporaryDirectory()
        try "FROM \(DockerDaemon.baseImage)\nLABEL other=\(label)\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let name = "ecrpush-other:\(label)"
        let build = try await runProcess("docker", ["-H", docker.host, "build", "-q", "-t", name, context.path])
        try #require(build.status == 0, "\(build.combinedText)")
        return name
    }

    @Test func tagsWithoutMovingABlob() async throws {
        let world = try await World.start()
        defer { world.stop() }
        let repository = BuildAndPushTests.uniqueName("tagged")
        let digest = try await world.push(repository, tag: "v1")

        try await world.proxy.reset()
        try await world.moto.resetCounts()
        let tagged = try await ECRPushCLI.run(
            ["tag", "\(repository):v1", "v2", "stable", "--registry", world.proxy.hostPort], environment: world.environment)
        try #require(tagged.status == 0, "\(tagged.combinedText)")
        #expect(
            tagged.stdoutText
                == "\(world.proxy.hostPort)/\(repository):v2\n\(world.proxy.hostPort)/\(repository):stable\n"
                + "\(world.proxy.hostPort)/\(repository)@\(digest)\n")

        // Only ECR API calls, and no registry login: ecrpush itself cannot have spoken to the registry.
        let counts = try await world.moto.counts()
        #expect(counts["BatchGetImage"] == 1)
        #expect(counts["PutImage"] == 2)
        for action in ["GetAuthorizationToken", "BatchCheckLayerAvailability", "InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload"] {
            #expect(counts[action, default: 0] == 0, "\(action) must not be called by tag")
        }
        // What reached the registry: motoworld storing the manifest PutImage got; never a blob.
        let seen = try await world.proxy.seen()
        #expect(!seen.isEmpty)
        #expect(seen.allSatisfy { $0.path.contains("/manifests/") }, "\(seen.map { "\($0.method) \($0.path)" })")
        #expect(!seen.contains { $0.path.contains("/blobs/") })

        // The registry and ECR both say the new tags name the same manifest.
        for tag in ["v2", "stable"] {
            let bytes = try await world.registry.manifestBytes(repository: repository, reference: tag)
            #expect(try await sha256Digest(bytes) == digest)
        }
        let listed = try await runPython(
            """
            import boto3, os, sys
            ecr = boto3.client("ecr", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
            for tag in ("v1", "v2", "stable"):
                image = ecr.batch_get_image(repositoryName=sys.argv[1], imageIds=[{"imageTag": tag}])["images"][0]
                print(image["imageId"]["imageDigest"])
            """, arguments: [repository], environment: world.moto.awsEnvironment(.admin))
        #expect(listed.stdoutText == String(repeating: digest + "\n", count: 3), "\(listed.combinedText)")
        // docker pull of the new tag (from the registry itself, with docker's own login) gets the same image.
        let pulled = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):stable")
        #expect(pulled.status == 0, "\(pulled.combinedText)")
        let pulledDigests = try await runProcess(
            "docker",
            ["-H", world.docker.host, "image", "inspect", "--format", "{{json .RepoDigests}}", "\(world.registry.hostPort)/\(repository):stable"])
        #expect(pulledDigests.stdoutText.contains("\(world.registry.hostPort)/\(repository)@\(digest)"), "\(pulledDigests.combinedText)")

        // Again: nothing to do, said in the JSON; by digest works too.
        try await world.moto.resetCounts()
        let again = try await ECRPushCLI.run(
            ["tag", "\(repository)@\(digest)", "v2", "v3", "--output", "json"], environment: world.environment)
        try #require(again.status == 0, "\(again.combinedText)")
        let object = try #require(try JSONSerialization.jsonObject(with: again.stdout) as? [String: Any])
        #expect(object["digest"] as? String == digest)
        #expect(object["tags"] as? [String] == ["v2", "v3"])
        #expect(object["unchanged"] as? [String] == ["v2"])
        #expect(object["added"] as? [String] == ["v3"])
        #expect(object["mediaType"] as? String == "application/vnd.docker.distribution.manifest.v2+json")
        #expect(try await world.moto.counts()["PutImage"] == 1, "a tag that already names the image is not put again")
    }

    /// An OCI index keeps its bytes and media type (ECR would convert or refuse it without acceptedMediaTypes).
    @Test func indexIsTaggedAsItIs() async throws {
        let world = try await World.start()
        defer { world.stop() }
        let repository = BuildAndPushTests.uniqueName("tag-index")
        let digest = try await world.push(repository, tag: "v1")
        let size = try await world.registry.manifestBytes(repository: repository, reference: "v1").count
        let index = """
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":\
            "application/vnd.docker.distribution.manifest.v2+json","digest":"\(digest)","size":\(size),\
            "platform":{"architecture":"amd64","os":"linux"}}]}
            """
        let put = try await runPython(
            """
            import boto3, os, sys
            ecr = boto3.client("ecr", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
            ecr.put_image(repositoryName=sys.argv[1], imageManifest=sys.argv[2], imageTag="multi",
                          imageManifestMediaType="application/vnd.oci.image.index.v1+json")
            """, arguments: [repository, index], environment: world.moto.awsEnvironment(.admin))
        try #require(put.status == 0, "\(put.combinedText)")

        let tagged = try await ECRPushCLI.run(["tag", "\(repository):multi", "multi-copy", "--output", "json"], environment: world.environment)
        try #require(tagged.status == 0, "\(tagged.combinedText)")
        let object = try #require(try JSONSerialization.jsonObject(with: tagged.stdout) as? [String: Any])
        #expect(object["mediaType"] as? String == "application/vnd.oci.image.index.v1+json")
        let indexDigest = try await sha256Digest(Data(index.utf8))
        #expect(object["digest"] as? String == indexDigest)
        let stored = try await world.registry.manifestBytes(repository: repository, reference: "multi-copy")
        #expect(stored == Data(index.utf8), "the index's own bytes under the new tag")
    }

    @Test func immutableTagOnAnotherImageIsRefused() async throws {
        let world = try await World.start()
        defer { world.stop() }
        let repository = BuildAndPushTests.uniqueName("tag-immutable")
        let base = try await world.push(repository, tag: "v1", extra: ["--create-repository", "--image-tag-mutability", "IMMUTABLE"])
        let other = try await Self.otherImage(docker: world.docker, label: repository)
        let otherDigest = try await world.push(repository, tag: "other", image: other, extra: [])
        #expect(otherDigest != base)

        let refused = try await ECRPushCLI.run(["tag", "\(repository):other", "v1"], environment: world.environment)
        #expect(refused.status == 1, "\(refused.combinedText)")
        #expect(refused.stderrText.contains("tag 'v1'"))
        #expect(refused.stderrText.contains(base), "names the image the tag holds: \(refused.stderrText)")
        #expect(refused.stderrText.contains("immutable"))
        #expect(refused.stderrText.contains("AlreadyExistsException"))
        #expect(refused.stdoutText.isEmpty)

        let same = try await ECRPushCLI.run(["tag", "\(repository):v1", "v1"], environment: world.environment)
        #expect(same.status == 0, "a tag that already names the image is a success: \(same.combinedText)")
        let fresh = try await ECRPushCLI.run(["tag", "\(repository):other", "release"], environment: world.environment)
        #expect(fresh.status == 0, "\(fresh.combinedText)")

        let missing = try await ECRPushCLI.run(["tag", "\(repository):nope", "x"], environment: world.environment)
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("has no image \(repository):nope"))
    }

    @Test func badArgumentsExit64() async throws {
        for arguments in [
            ["tag", "team/app", "v2"], ["tag", "team/app:v1", "other/repo:v2"], ["tag", "team/app:v1"], ["tag", "team/app@sha256:12", "x"]
        ] {
            let result = try await ECRPushCLI.run(arguments, environment: [:])
            #expect(result.status == 64, "\(arguments): \(result.combinedText)")
        }
    }
}

extension TagCommandTests.World {
    func pullAndRun(_ reference: String) async throws -> ProcessResult {
        try await BuildAndPushTests.World(registry: registry, docker: docker, moto: moto).pullAndRun(reference, command: ["sh", "-c", "true"])
    }
}

/// `sha256:<hex>` of `data`, by the system's sha256sum (the test target links no hashing of its own).
func sha256Digest(_ data: Data) async throws -> String {
    let result = try await runProcess("sha256sum", [], stdin: data)
    return "sha256:" + result.stdoutText.prefix(64)
}
