import Foundation
import TestWorld
import Testing

/// The blob cache (diffID → pushed blob, per registry): an unchanged image's re-push checks its blobs and puts
/// the manifest without reading the image from the Engine, and never skips a blob the registry lost.
@Suite struct BlobCacheTests {
    typealias World = BuildAndPushTests.World

    /// A two-layer image of its own (a label makes it unique on the shared daemon), built once.
    /// The digest of the biggest layer of `repository:v1`'s manifest in the world's registry.
    static func biggestLayer(_ world: World, repository: String) async throws -> String {
        let manifest = try await world.registry.manifest(repository: repository, reference: "v1")
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        return try #require(layers.max { ($0["size"] as? Int ?? 0) < ($1["size"] as? Int ?? 0) }?["digest"] as? String)
    }

    static func build(_ world: World, repository: String) async throws -> String {
        let context = TemporaryDirectory()
        try """
        FROM \(DockerDaemon.baseImage)
        RUN head -c 3000000 /dev/urandom > /blob && echo hello > /hello
        LABEL ecrpush.test="\(repository)"
        CMD ["cat", "/hello"]
        """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let built = try await world.docker.docker(["build", "-q", context.path])
        try #require(built.status == 0, "\(built.combinedText)")
        return built.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test(arguments: ["registry", "ecr-api"])
    func rePushSkipsTheExportAndNeverABlobTheRegistryLost(transport: String) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("cache-\(transport)")
        let imageID = try await Self.build(world, repository: repository)
        let cache = TemporaryDirectory()
        let environment = world.environment.merging(["XDG_CACHE_HOME": cache.path]) { $1 }
        func push(_ extra: [String] = []) async throws -> ProcessResult {
            try await ECRPushCLI.run(
                [
                    // --no-base-layers: base images other tests push through the shared Engine would change the blobs.
                    "push", imageID, "--repository", repository, "--tag", "v1", "--create-repository",
                    "--transport", transport, "--registry", world.registry.hostPort, "--no-base-layers"
                ] + extra,
                environment: environment)
        }

        let first = try await push()
        try #require(first.status == 0, "\(first.combinedText)")
        #expect(first.stderrText.contains("from the Docker Engine"))
        let digestLine = try #require(first.stdoutText.split(separator: "\n").last.map(String.init))
        let cacheFiles = try FileManager.default.contentsOfDirectory(atPath: cache.path + "/ecrpush/blobs").filter { $0.hasSuffix(".json") }
        #expect(cacheFiles.count == 1, "one file for the registry")
        let mode = try FileManager.default.attributesOfItem(atPath: cache.path + "/ecrpush/blobs/" + cacheFiles[0])[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // Unchanged: no export, every blob checked and present, the same manifest.
        try await world.moto.resetCounts()
        let second = try await push()
        try #require(second.status == 0, "\(second.combinedText)")
        #expect(!second.stderrText.contains("from the Docker Engine"), "\(second.stderrText)")
        #expect(second.stderrText.components(separatedBy: "Layer already exists").count - 1 == 3, "\(second.stderrText)")
        #expect(second.stdoutText.split(separator: "\n").last.map(String.init) == digestLine)
        let counts = try await world.moto.counts()
        #expect(counts["InitiateLayerUpload", default: 0] == 0)
        if transport == "ecr-api" { #expect(counts["BatchCheckLayerAvailability"] == 1, "one call for every blob") }

        // --no-blob-cache reads the image again (and finds the blobs there).
        let uncached = try await push(["--no-blob-cache"])
        try #require(uncached.status == 0, "\(uncached.combinedText)")
        #expect(uncached.stderrText.contains("from the Docker Engine"))

        // The registry loses the big layer: the cache must not make the push skip it.
        let big = try await Self.biggestLayer(world, repository: repository)
        #expect(try await world.registry.deleteBlob(repository: repository, digest: big) == 202)
        #expect(try await world.registry.blobStatus(repository: repository, digest: big) == 404)
        let third = try await push()
        try #require(third.status == 0, "\(third.combinedText)")
        #expect(third.stderrText.contains("no longer in"), "\(third.stderrText)")
        #expect(third.stderrText.contains("from the Docker Engine"))
        #expect(third.stdoutText.split(separator: "\n").last.map(String.init) == digestLine)
        #expect(try await world.registry.blobStatus(repository: repository, digest: big) == 200, "uploaded again")
        let run = try await world.pullAndRun(digestLine)
        #expect(run.stdoutText == "hello\n", "\(run.combinedText)")

        // `cache clear` forgets the pushed blobs too.
        let cleared = try await ECRPushCLI.run(["cache", "clear"], environment: environment)
        #expect(cleared.status == 0 && cleared.stderrText.contains("pushed blobs of 1 registry"), "\(cleared.combinedText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.path + "/ecrpush/blobs").filter { $0.hasSuffix(".json") }.isEmpty)
    }

    /// A push to several destinations (fan-out) of an image every destination got before: nothing is read from the
    /// Engine, each destination gets the same manifest; a blob no destination holds any more makes the image be read.
    @Test func aFanOutRePushReadsNothingWhenEveryDestinationHoldsTheImage() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("fan-cache")
        let other = repository + "-b"
        let imageID = try await Self.build(world, repository: repository)
        let cache = TemporaryDirectory()
        let environment = world.environment.merging(["XDG_CACHE_HOME": cache.path]) { $1 }
        func push() async throws -> ProcessResult {
            try await ECRPushCLI.run(
                [
                    "push", imageID, "--repository", repository, "--repository", other, "--tag", "v1", "--create-repository",
                    "--registry", world.registry.hostPort, "--no-base-layers", "--output", "json"
                ], environment: environment)
        }
        func digest(_ result: ProcessResult) throws -> String? {
            try (JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any])?["digest"] as? String
        }
        let first = try await push()
        try #require(first.status == 0, "\(first.combinedText)")
        #expect(first.stderrText.contains("from the Docker Engine"))

        let second = try await push()
        try #require(second.status == 0, "\(second.combinedText)")
        #expect(!second.stderrText.contains("from the Docker Engine"), "\(second.stderrText)")
        #expect(try digest(second) == digest(first))

        // Both repositories lose the big layer (nothing to mount it from): the image is read again, the blob sent back.
        let big = try await Self.biggestLayer(world, repository: other)
        #expect(try await world.registry.deleteBlob(repository: other, digest: big) == 202)
        #expect(try await world.registry.deleteBlob(repository: repository, digest: big) == 202)
        let third = try await push()
        try #require(third.status == 0, "\(third.combinedText)")
        #expect(third.stderrText.contains("from the Docker Engine"), "\(third.stderrText)")
        #expect(try digest(third) == digest(first))
        #expect(try await world.registry.blobStatus(repository: other, digest: big) == 200)
    }

    /// The same image to another repository of the registry: its blobs are mounted from the repository they were
    /// pushed to (no export, no upload); when the source lost one, the image is read and that blob uploaded.
    @Test func anotherRepositoryMountsTheBlobsPushedBefore() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let source = BuildAndPushTests.uniqueName("mount-src")
        let imageID = try await Self.build(world, repository: source)
        let cache = TemporaryDirectory()
        let environment = world.environment.merging(["XDG_CACHE_HOME": cache.path]) { $1 }
        func push(_ repository: String) async throws -> ProcessResult {
            try await ECRPushCLI.run(
                [
                    // --no-base-layers: base images other tests push through the shared Engine would change the blobs.
                    "push", imageID, "--repository", repository, "--tag", "v1", "--create-repository",
                    "--registry", world.registry.hostPort, "--transport", "registry", "--no-base-layers"
                ], environment: environment)
        }
        let first = try await push(source)
        try #require(first.status == 0, "\(first.combinedText)")
        let digest = try #require(first.stdoutText.split(separator: "\n").last?.split(separator: "@").last.map(String.init))

        let target = source + "-copy"
        let copied = try await push(target)
        try #require(copied.status == 0, "\(copied.combinedText)")
        #expect(!copied.stderrText.contains("from the Docker Engine"), "\(copied.stderrText)")
        #expect(copied.stderrText.components(separatedBy: "Mounted from \(source)").count - 1 == 3, "\(copied.stderrText)")
        #expect(copied.stdoutText.split(separator: "\n").last.map(String.init) == "\(world.registry.hostPort)/\(target)@\(digest)")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(target)@\(digest)")
        #expect(run.stdoutText == "hello\n", "\(run.combinedText)")

        // The source repository loses the big layer: nothing to mount it from, so the image is read again.
        let big = try await Self.biggestLayer(world, repository: source)
        #expect(try await world.registry.deleteBlob(repository: source, digest: big) == 202)
        let third = source + "-third"
        let fallback = try await push(third)
        try #require(fallback.status == 0, "\(fallback.combinedText)")
        #expect(fallback.stderrText.contains("from the Docker Engine"), "\(fallback.stderrText)")
        #expect(try await world.registry.blobStatus(repository: third, digest: big) == 200)
        #expect(fallback.stdoutText.split(separator: "\n").last.map(String.init) == "\(world.registry.hostPort)/\(third)@\(digest)")
    }

    /// Without XDG_CACHE_HOME the cache is under `$HOME/.cache` (as every other tool reads HOME), not under the
    /// user database's home directory.
    @Test func theCacheFollowsHOME() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let home = TemporaryDirectory()
        let repository = BuildAndPushTests.uniqueName("cache-home")
        let pushed = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--create-repository",
                "--registry", world.registry.hostPort, "--transport", "registry"
            ],
            environment: world.environment.merging(["HOME": home.path, "XDG_CACHE_HOME": ""]) { $1 })
        try #require(pushed.status == 0, "\(pushed.combinedText)")
        let files = try FileManager.default.contentsOfDirectory(atPath: home.path + "/.cache/ecrpush/blobs")
        #expect(files.contains { $0.hasSuffix(".json") })
    }
}
