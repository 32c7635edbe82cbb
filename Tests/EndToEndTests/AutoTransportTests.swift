import Foundation
import TestWorld
import Testing

/// `--transport auto` (the default) on the loopback world: the Engine's push when most of the image came from the
/// destination registry, ecrpush's registry push otherwise. Asserted on what ecrpush did (the transport it said
/// it chose, and what the registry holds), never on time.
@Suite struct AutoTransportTests {
    typealias World = BuildAndPushTests.World

    /// Builds `FROM base` plus `megabytes` of random bytes, with a label of its own (other tests share the daemon).
    static func build(_ world: World, from base: String, megabytes: Int, tag: String? = nil) async throws -> String {
        let context = TemporaryDirectory()
        try """
        FROM \(base)
        RUN head -c \(megabytes << 20) /dev/urandom > /layer-\(UInt32.random(in: 0...UInt32.max))
        LABEL ecrpush.test="auto-\(UInt32.random(in: 0...UInt32.max))"
        CMD ["sh", "-c", "echo auto"]
        """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        return try await dockerBuild(world, context: context, tag: tag)
    }

    /// The image ID of a `docker build` of `context`.
    static func dockerBuild(_ world: World, context: TemporaryDirectory, tag: String? = nil) async throws -> String {
        let build = try await world.docker.docker(["build", "-q"] + (tag.map { ["-t", $0] } ?? []) + [context.path])
        let id = build.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard build.status == 0, id.hasPrefix("sha256:") else {
            throw WorldError.commandFailed(command: "docker build", status: build.status, output: build.combinedText)
        }
        return id
    }

    /// An image of one layer of `megabytes` random bytes on nothing (`FROM scratch`): truly cold, whatever RepoDigests
    /// other tests' pushes left on the daemon's base image.
    static func buildCold(_ world: World, megabytes: Int) async throws -> String {
        let context = TemporaryDirectory()
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        try random.read(upToCount: megabytes << 20)?.write(to: URL(fileURLWithPath: context.path + "/layer"))
        try random.close()
        try """
        FROM scratch
        COPY layer /layer
        LABEL ecrpush.test="cold-\(UInt32.random(in: 0...UInt32.max))"
        """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        return try await dockerBuild(world, context: context)
    }

    /// `docker push` by the Engine to `registry`, logged in through stdin: the image then has a RepoDigest there,
    /// as a base image a CI runner pulled has. `address`: where the reference names the registry, when not its own
    /// (a proxy in front of it).
    static func dockerPush(_ world: World, _ reference: String, to registry: LoopbackRegistry, at address: String? = nil) async throws {
        let config = TemporaryDirectory()
        let base = ["--config", config.path, "-H", world.docker.host]
        let login = try await runProcess(
            "docker", base + ["login", "--username", registry.username, "--password-stdin", address ?? registry.hostPort],
            stdin: Data(registry.password.utf8))
        let push = login.status == 0 ? try await runProcess("docker", base + ["push", reference]) : login
        guard push.status == 0 else {
            throw WorldError.commandFailed(command: "docker push \(reference)", status: push.status, output: push.combinedText)
        }
    }

    /// A base of `megabytes` (random) on busybox, pushed by docker to the world's registry as `<prefix>-N:1`: a base
    /// in the destination registry, with the Engine's record of where its layers went.
    static func pushedBase(_ world: World, prefix: String, megabytes: Int) async throws -> (repository: String, reference: String) {
        let repository = BuildAndPushTests.uniqueName(prefix)
        let reference = "\(world.registry.hostPort)/\(repository):1"
        _ = try await build(world, from: DockerDaemon.baseImage, megabytes: megabytes, tag: reference)
        try await dockerPush(world, reference, to: world.registry)
        return (repository, reference)
    }

    /// The layer digests of the manifest at `reference`, in order.
    static func layerDigests(_ world: World, repository: String, reference: String) async throws -> [String] {
        let layers = try await world.registry.manifest(repository: repository, reference: reference)["layers"] as? [[String: Any]]
        return try #require(layers).compactMap { $0["digest"] as? String }
    }

    func push(_ world: World, _ image: String, repository: String, extra: [String] = []) async throws -> ProcessResult {
        try await ECRPushCLI.run(
            ["push", image, "--repository", repository, "--tag", "v1", "--create-repository"] + extra,
            environment: world.environment)
    }

    @Test func baseFromTheDestinationRegistryGoesThroughTheEnginesPush() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let (baseRepository, baseName) = try await Self.pushedBase(world, prefix: "auto-base", megabytes: 16)
        let app = try await Self.build(world, from: baseName, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("auto-app")
        let result = try await push(world, app, repository: repository)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: daemon"), "\(result.stderrText)")
        #expect(result.stderrText.contains("in this registry"))

        // The pushed manifest names the base's own blobs (the Engine mounted them), and it pulls back and runs.
        let baseDigests = try await Self.layerDigests(world, repository: baseRepository, reference: "1")
        let appDigests = try await Self.layerDigests(world, repository: repository, reference: "v1")
        #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests)
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
    }

    @Test func newLayersGoThroughEcrpushsRegistryPush() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await Self.buildCold(world, megabytes: 16)
        let result = try await push(world, image, repository: BuildAndPushTests.uniqueName("auto-cold"))
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: registry"), "\(result.stderrText)")
        #expect(result.stderrText.contains(": Pushed"), "ecrpush uploaded the layers itself")
    }

    /// A known slow uplink (`--upload-rate`, `ECRPUSH_UPLOAD_RATE`): the link bounds both pushes and ecrpush's would
    /// first wait for the Engine's export, so the Engine pushes even an image whose layers are all new.
    @Test func aSlowUploadRateTakesTheEnginesPush() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await Self.build(world, from: DockerDaemon.baseImage, megabytes: 16)
        let repository = BuildAndPushTests.uniqueName("auto-slow-link")
        let result = try await push(world, image, repository: repository, extra: ["--upload-rate", "8mbit"])
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: daemon"), "\(result.stderrText)")
        #expect(result.stderrText.contains("an upload rate of 8 Mbit/s"), "\(result.stderrText)")
        #expect(try await Self.layerDigests(world, repository: repository, reference: "v1").count == 2)

        let fromEnvironment = try await ECRPushCLI.run(
            ["push", image, "--repository", repository, "--tag", "v2"],
            environment: world.environment.merging(["ECRPUSH_UPLOAD_RATE": "1MB/s"]) { $1 })
        try #require(fromEnvironment.status == 0, "\(fromEnvironment.combinedText)")
        #expect(fromEnvironment.stderrText.contains("an upload rate of 8 Mbit/s"), "\(fromEnvironment.stderrText)")

        let notARate = try await ECRPushCLI.run(
            ["push", image, "--repository", repository, "--tag", "v3"],
            environment: world.environment.merging(["ECRPUSH_UPLOAD_RATE": "fast"]) { $1 })
        #expect(notARate.status == 64, "\(notARate.combinedText)")
        #expect(notARate.stderrText.contains("ECRPUSH_UPLOAD_RATE must be a number and a unit"), "\(notARate.stderrText)")
        let badFlag = try await push(world, image, repository: repository, extra: ["--upload-rate", "200"])
        #expect(badFlag.status == 64, "\(badFlag.combinedText)")
        #expect(badFlag.stderrText.contains("--upload-rate"), "\(badFlag.stderrText)")
        // A rate given with a transport that does not choose changes nothing: said, not ignored. The variable (a CI
        // setting for every push) is taken where it can inform, and left alone where it cannot.
        let explicit = try await push(world, image, repository: repository, extra: ["--upload-rate", "8mbit", "--transport", "registry"])
        #expect(explicit.status == 64, "\(explicit.combinedText)")
        #expect(explicit.stderrText.contains("--upload-rate informs --transport auto"), "\(explicit.stderrText)")
        let fromVariable = try await ECRPushCLI.run(
            ["push", image, "--repository", repository, "--tag", "v4", "--transport", "registry"],
            environment: world.environment.merging(["ECRPUSH_UPLOAD_RATE": "8mbit"]) { $1 })
        #expect(fromVariable.status == 0 && !fromVariable.stderrText.contains("Transport auto"), "\(fromVariable.combinedText)")
        #expect(try await world.registry.manifestStatus(repository: repository, reference: "v4") == 200)
    }

    /// A base from another registry would be sent again (recompressed) by the Engine: ecrpush pushes.
    @Test func baseFromAnotherRegistryGoesThroughEcrpushsRegistryPush() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let other = try await LoopbackRegistry.start()
        let baseName = "\(other.hostPort)/\(BuildAndPushTests.uniqueName("other-base")):1"
        _ = try await Self.build(world, from: DockerDaemon.baseImage, megabytes: 16, tag: baseName)
        try await Self.dockerPush(world, baseName, to: other)
        await other.stop()
        let app = try await Self.build(world, from: baseName, megabytes: 1)
        let result = try await push(world, app, repository: BuildAndPushTests.uniqueName("auto-other"))
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: registry"), "\(result.stderrText)")
        #expect(result.stderrText.contains("another registry"))
    }

    @Test func zstdAlwaysGoesThroughEcrpush() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await Self.build(world, from: DockerDaemon.baseImage, megabytes: 1)
        let result = try await push(world, image, repository: BuildAndPushTests.uniqueName("auto-zstd"), extra: ["--compression", "zstd"])
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: registry"))
        #expect(result.stderrText.contains("zstd layers are compressed by ecrpush"))
    }

    /// ecrpush's own push names the base's blobs too, when the destination registry has them: the base's layers
    /// are mounted from its repository, not uploaded again under ecrpush's own compression.
    @Test func registryTransportReusesTheBaseLayersOfTheDestination() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let (baseRepository, baseName) = try await Self.pushedBase(world, prefix: "reuse-base", megabytes: 8)
        let app = try await Self.build(world, from: baseName, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("reuse-app")
        let result = try await push(world, app, repository: repository, extra: ["--transport", "registry"])
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("are in \(world.registry.hostPort)/\(repository)"), "\(result.stderrText)")
        #expect(result.stderrText.contains("Mounted from \(baseRepository)"))
        #expect(result.stderrText.contains("2 layers the registry holds were recognised in the export and not compressed"), "\(result.stderrText)")
        let baseDigests = try await Self.layerDigests(world, repository: baseRepository, reference: "1")
        let appDigests = try await Self.layerDigests(world, repository: repository, reference: "v1")
        #expect(appDigests.count == baseDigests.count + 1)
        #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests, "the base's own blobs, not recompressed ones")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
    }

    /// BuildKit keeps the base's layers as the image's first ones too: an image built with `/build?version=2`
    /// finds its base, whose blobs the pushed manifest then names, as for a classic build.
    @Test func aBuildKitBuiltImageFindsItsBase() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let (baseRepository, baseName) = try await Self.pushedBase(world, prefix: "bk-base", megabytes: 4)
        let context = TemporaryDirectory()
        try "FROM \(baseName)\nCOPY app /app\nCMD [\"sh\", \"-c\", \"echo auto\"]\n".write(
            toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        try Data((0..<65_536).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: context.path + "/app"))
        let app = "bk-app-\(UInt32.random(in: 0...UInt32.max))"
        let socket = String(world.docker.host.dropFirst("unix://".count))
        let build = try await runProcess(
            "sh",
            [
                "-c",
                "tar -c -C \"$1\" . | curl -sS --fail --unix-socket \"$2\" -X POST -H 'Content-Type: application/x-tar' --data-binary @- "
                    + "\"http://docker/build?version=2&networkmode=none&t=$3\"",
                "buildkit", context.path, socket, app
            ])
        try #require(build.status == 0 && build.stdoutText.contains("moby.buildkit.trace"), "a BuildKit build: \(build.combinedText.suffix(500))")
        let repository = BuildAndPushTests.uniqueName("bk-app")
        let result = try await push(world, app, repository: repository)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("came from \(world.registry.hostPort)/\(baseRepository)@sha256:"), "\(result.stderrText)")
        let baseDigests = try await Self.layerDigests(world, repository: baseRepository, reference: "1")
        let appDigests = try await Self.layerDigests(world, repository: repository, reference: "v1")
        #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests)
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
    }

    /// A base pulled through a manifest list: the list's entry for the image's platform gives the layers (the
    /// other platform's entry names other blobs, which must not be used).
    @Test func aManifestListBaseGivesThePlatformsLayers() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let baseRepository = BuildAndPushTests.uniqueName("list-base")
        let amd = "\(world.registry.hostPort)/\(baseRepository):amd"
        let other = "\(world.registry.hostPort)/\(baseRepository):other"
        _ = try await Self.build(world, from: DockerDaemon.baseImage, megabytes: 4, tag: amd)
        _ = try await Self.build(world, from: DockerDaemon.baseImage, megabytes: 4, tag: other)
        try await Self.dockerPush(world, amd, to: world.registry)
        try await Self.dockerPush(world, other, to: world.registry)
        let manifestType = "application/vnd.docker.distribution.manifest.v2+json"
        func entry(_ tag: String, architecture: String) async throws -> String {
            let bytes = try await world.registry.manifestBytes(repository: baseRepository, reference: tag)
            let digest = "sha256:" + (try await sha256(bytes))
            return
                #"{"mediaType":"\#(manifestType)","size":\#(bytes.count),"digest":"\#(digest)","platform":{"architecture":"\#(architecture)","os":"linux"}}"#
        }
        // The foreign platform first, so taking the first entry would be wrong.
        let list =
            #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":["#
            + (try await entry("other", architecture: "arm64")) + "," + (try await entry("amd", architecture: "amd64")) + "]}"
        try await world.registry.putManifest(
            repository: baseRepository, reference: "multi", bytes: Data(list.utf8),
            mediaType: "application/vnd.docker.distribution.manifest.list.v2+json")
        // Pulled by the list's tag, as a CI runner pulls a multi-platform base: its RepoDigest is the list's.
        let multi = "\(world.registry.hostPort)/\(baseRepository):multi"
        _ = try await world.docker.docker(["rmi", "-f", amd])
        let config = TemporaryDirectory()
        let cli = ["--config", config.path, "-H", world.docker.host]
        let login = try await runProcess(
            "docker", cli + ["login", "--username", "AWS", "--password-stdin", world.registry.hostPort], stdin: Data(world.registry.password.utf8))
        let pull = try await runProcess("docker", cli + ["pull", multi])
        try #require(login.status == 0 && pull.status == 0, "\(pull.combinedText)")

        let app = try await Self.build(world, from: multi, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("list-app")
        let result = try await push(world, app, repository: repository, extra: ["--transport", "registry"])
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("already"), "\(result.stderrText)")
        let amdDigests = try await Self.layerDigests(world, repository: baseRepository, reference: "amd")
        let appDigests = try await Self.layerDigests(world, repository: repository, reference: "v1")
        #expect(Array(appDigests.prefix(amdDigests.count)) == amdDigests)
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
    }

    /// A base whose repository lost one of its blobs: that layer cannot be mounted, so it is compressed and
    /// uploaded by ecrpush; the manifest never names a blob the destination lacks.
    @Test func aBaseThatLostABlobFallsBackToUploading() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let (baseRepository, baseName) = try await Self.pushedBase(world, prefix: "lost-base", megabytes: 4)
        let baseDigests = try await Self.layerDigests(world, repository: baseRepository, reference: "1")
        let lost = try #require(baseDigests.last)
        #expect(try await world.registry.deleteBlob(repository: baseRepository, digest: lost) == 202)

        let app = try await Self.build(world, from: baseName, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("lost-app")
        let result = try await push(world, app, repository: repository, extra: ["--transport", "registry"])
        try #require(result.status == 0, "\(result.combinedText)")
        let appDigests = try await Self.layerDigests(world, repository: repository, reference: "v1")
        #expect(appDigests.first == baseDigests.first, "the layer still there is reused")
        #expect(!appDigests.contains(lost), "the lost blob is not named")
        for digest in appDigests { #expect(try await world.registry.blobStatus(repository: repository, digest: digest) == 200) }
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
    }
}

/// The hex sha256 of `data`, by the system's sha256sum (the test target links no hashing of its own).
private func sha256(_ data: Data) async throws -> String {
    let result = try await runProcess("sha256sum", [], stdin: data)
    return String(result.stdoutText.prefix(64))
}
