import Foundation
import TestWorld
import Testing

/// `--transport registry`: the Engine's export read once, blobs sent by ecrpush itself over the distribution API
/// to the ECR token's proxyEndpoint (the loopback registry here) with the token's basic auth; pulled back with
/// the docker CLI and run.
@Suite struct RegistryTransportTests {
    typealias World = BuildAndPushTests.World

    /// The repository's blob links in the registry's storage, with their modification times: a committed
    /// upload (re)writes its link, so unchanged times mean nothing was uploaded.
    static func blobLinks(_ world: World, repository: String) throws -> [String: Date] {
        let directory = world.registry.directory + "/registry/docker/registry/v2/repositories/\(repository)/_layers/sha256"
        var links: [String: Date] = [:]
        for digest in try FileManager.default.contentsOfDirectory(atPath: directory) {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/\(digest)/link")
            links[digest] = attributes[.modificationDate] as? Date
        }
        return links
    }

    @Test func helloIsPushedPulledAndRunAndASecondPushUploadsNothing() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("reg-hello")
        let scratch = TemporaryDirectory()
        // examples/hello with a label of its own before CMD: other tests build the example on the shared daemon
        // at the same time, and concurrent builds of one Dockerfile make different images of the same cache chain.
        let context = TemporaryDirectory()
        let example = try String(contentsOf: Repo.root.appendingPathComponent("examples/hello/Dockerfile"), encoding: .utf8)
        try example.replacingOccurrences(of: "\nCMD ", with: "\nLABEL ecrpush.test=\"\(repository)\"\nCMD ")
            .write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let hello = context.path
        let result = try await ECRPushCLI.run(
            [
                // --no-base-layers: base images other tests push through the shared Engine would change the blobs.
                "build-and-push", hello, "--repository", repository, "--tag", "v1", "--create-repository",
                "--transport", "registry", "--no-base-layers"
            ],
            environment: world.environment.merging(["TMPDIR": scratch.path]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "temp space is empty after success")
        let digestLine = try #require(result.stdoutText.split(separator: "\n").last.map(String.init))
        #expect(digestLine.hasPrefix("\(world.registry.hostPort)/\(repository)@sha256:"), "the token's proxyEndpoint, no --registry")
        #expect(!result.combinedText.contains(world.registry.password), "the password is never shown")
        let counts = try await world.moto.counts()
        #expect(counts["GetAuthorizationToken", default: 0] >= 1)
        #expect(counts["InitiateLayerUpload", default: 0] == 0, "blobs went to the registry, not through ECR's API")
        let links = try Self.blobLinks(world, repository: repository)
        #expect(links.count == 2, "one layer and the config")
        // Uploaded, or already in the registry when another test pushed an image with the same layers through the
        // Engine meanwhile (then its blobs are mounted rather than uploaded again).
        let blobEvents =
            result.stderrText.components(separatedBy: ": Pushed").count + result.stderrText.components(separatedBy: ": Layer already exists").count
            - 2
        #expect(blobEvents == 2, "\(result.stderrText)")

        // The image itself, by ID: other tests build the same example on the shared daemon meanwhile.
        let inspect = try await world.docker.docker(["image", "inspect", "--format", "{{.Id}}", "\(world.registry.hostPort)/\(repository):v1"])
        let imageID = inspect.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(inspect.status == 0 && imageID.hasPrefix("sha256:"), "\(inspect.combinedText)")

        let run = try await world.pullAndRun(digestLine)
        #expect(run.status == 0, "\(run.combinedText)")
        #expect(run.stdoutText == "hello\n")

        // Everything is there already: HEAD says so for each blob and nothing is uploaded.
        let again = try await ECRPushCLI.run(
            ["push", imageID, "--repository", repository, "--tag", "v1", "--tag", "v2", "--transport", "registry", "--no-base-layers"],
            environment: world.environment)
        try #require(again.status == 0, "\(again.combinedText)")
        #expect(again.stdoutText.split(separator: "\n").last.map(String.init) == digestLine)
        #expect(try Self.blobLinks(world, repository: repository) == links, "the second push uploaded no blob")
        #expect(again.stderrText.contains("Layer already exists"))
        #expect(!again.stderrText.contains("Pushed"))
        let tagged = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v2")
        #expect(tagged.stdoutText == "hello\n", "\(tagged.combinedText)")
    }

    /// A 24 MiB random layer and a 5 MiB one: parallel and sequential pushes, and the ecr-api transport,
    /// give the very same manifest.
    @Test func multiLayerImageInParallelMatchesSequential() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let context = try ECRAPITransportTests.bigContext()
        let repository = BuildAndPushTests.uniqueName("reg-big")
        let parallel = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "big", "--create-repository",
                "--transport", "registry", "--jobs", "4", "--compression-level", "1",
                // Every layer ecrpush's own, as the ecr-api pushes below (the shared daemon's other tests may have
                // pushed an image with the same base layers through the Engine).
                "--no-base-layers"
            ],
            environment: world.environment)
        try #require(parallel.status == 0, "\(parallel.combinedText)")
        let digestLine = try #require(parallel.stdoutText.split(separator: "\n").last.map(String.init))
        let digest = try #require(digestLine.split(separator: "@").last.map(String.init))
        // Not a TTY: a line per state change and one every few seconds while uploading, never one per chunk.
        let pushingLines = parallel.stderrText.split(separator: "\n").filter { $0.contains(": Pushing") }
        #expect((3...12).contains(pushingLines.count), "\(parallel.stderrText)")

        let local = try await world.docker.docker(["run", "--rm", "--network", "none", "\(world.registry.hostPort)/\(repository):big"])
        let pulled = try await world.pullAndRun(digestLine)
        #expect(pulled.status == 0, "\(pulled.combinedText)")
        #expect(!local.stdoutText.isEmpty)
        #expect(pulled.stdoutText == local.stdoutText, "the pulled image holds the same bytes")

        // Sequential, and with no temporary space to spare: the export waits after each layer until its upload
        // is done (and its file deleted), and still ends complete.
        for (transport, name) in [("registry", "reg-seq"), ("ecr-api", "api-seq")] {
            let other = BuildAndPushTests.uniqueName(name)
            let scratch = TemporaryDirectory()
            let sequential = try await ECRPushCLI.run(
                [
                    "push", "\(world.registry.hostPort)/\(repository):big", "--repository", other, "--tag", "big",
                    "--create-repository", "--transport", transport, "--jobs", "1", "--compression-level", "1",
                    "--registry", world.registry.hostPort, "--temp-space-limit", "0", "--no-blob-cache", "--no-base-layers", "-q"
                ],
                environment: world.environment.merging(["TMPDIR": scratch.path]) { $1 })
            try #require(sequential.status == 0, "\(sequential.combinedText)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
            #expect(sequential.stderrText.isEmpty, "-q shows no progress: \(sequential.stderrText)")
            #expect(
                sequential.stdoutText.split(separator: "\n").last.map(String.init) == "\(world.registry.hostPort)/\(other)@\(digest)",
                "--jobs 1 with \(transport) pushes the same manifest as --jobs 4")
        }
    }

    @Test func missingRepositoryAndBadJobs() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("reg-missing")
        let missing = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--transport", "registry"],
            environment: world.environment)
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("does not exist"), "\(missing.stderrText)")
        let badJobs = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--jobs", "0"],
            environment: world.environment)
        #expect(badJobs.status == 64)
        #expect(badJobs.stderrText.contains("--jobs"))
        let badLimit = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--temp-space-limit", "-1"],
            environment: world.environment)
        #expect(badLimit.status == 64)
        #expect(badLimit.stderrText.contains("--temp-space-limit"), "\(badLimit.stderrText)")
    }
}
