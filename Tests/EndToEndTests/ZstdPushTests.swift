import Foundation
import TestWorld
import Testing

/// `--compression zstd`: OCI manifests with `tar+zstd` layers that the real docker pulls and runs; the same
/// manifest through both of ecrpush's transports; the blob cache keeps gzip and zstd pushes apart.
@Suite struct ZstdPushTests {
    typealias World = BuildAndPushTests.World

    @Test func zstdLayersArePulledAndRunAndNeverMixedWithGzipOnes() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("zstd")
        let imageID = try await BlobCacheTests.build(world, repository: repository)
        let cache = TemporaryDirectory()
        let environment = world.environment.merging(["XDG_CACHE_HOME": cache.path]) { $1 }
        func push(_ repository: String, _ extra: [String]) async throws -> ProcessResult {
            try await ECRPushCLI.run(
                [
                    // --no-base-layers: base images other tests push through the shared Engine would change the blobs.
                    "push", imageID, "--repository", repository, "--tag", "v1", "--create-repository",
                    "--registry", world.registry.hostPort, "--no-base-layers"
                ] + extra, environment: environment)
        }

        let gzip = try await push(repository, [])
        try #require(gzip.status == 0, "\(gzip.combinedText)")
        let gzipManifest = try await world.registry.manifest(repository: repository, reference: "v1")
        #expect(gzipManifest["mediaType"] as? String == "application/vnd.docker.distribution.manifest.v2+json")

        // The gzip push is remembered, but its blobs are not zstd ones: the image is read and compressed again.
        let zstdRepository = repository + "-z"
        let zstd = try await push(zstdRepository, ["--compression", "zstd"])
        try #require(zstd.status == 0, "\(zstd.combinedText)")
        #expect(zstd.stderrText.contains("from the Docker Engine"), "\(zstd.stderrText)")
        let manifest = try await world.registry.manifest(repository: zstdRepository, reference: "v1")
        #expect(manifest["mediaType"] as? String == "application/vnd.oci.image.manifest.v1+json")
        #expect((manifest["config"] as? [String: Any])?["mediaType"] as? String == "application/vnd.oci.image.config.v1+json")
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        #expect(layers.count == 2)
        for layer in layers {
            #expect(layer["mediaType"] as? String == "application/vnd.oci.image.layer.v1.tar+zstd")
            let bytes = try await world.registry.blob(repository: zstdRepository, digest: try #require(layer["digest"] as? String))
            #expect(bytes.starts(with: [0x28, 0xb5, 0x2f, 0xfd]), "a zstd frame")
        }
        let digestLine = try #require(zstd.stdoutText.split(separator: "\n").last.map(String.init))
        let run = try await world.pullAndRun(digestLine)
        #expect(run.status == 0, "\(run.combinedText)")
        #expect(run.stdoutText == "hello\n")

        // ECR's own API takes the same OCI manifest (same digest: the compression does not depend on the path).
        let apiRepository = repository + "-api"
        let api = try await push(apiRepository, ["--compression", "zstd", "--transport", "ecr-api", "--no-blob-cache"])
        try #require(api.status == 0, "\(api.combinedText)")
        let apiDigest = api.stdoutText.split(separator: "\n").last.flatMap { $0.split(separator: "@").last }
        #expect(apiDigest != nil && apiDigest == digestLine.split(separator: "@").last)

        // And a zstd re-push is a warm one now.
        let again = try await push(zstdRepository, ["--compression", "zstd"])
        try #require(again.status == 0, "\(again.combinedText)")
        #expect(!again.stderrText.contains("from the Docker Engine"), "\(again.stderrText)")
        #expect(again.stdoutText.split(separator: "\n").last.map(String.init) == digestLine)

        let refused = try await push(zstdRepository, ["--compression", "zstd", "--transport", "daemon"])
        #expect(refused.status == 64)
        #expect(refused.stderrText.contains("--compression zstd needs"), "\(refused.stderrText)")
        let badLevel = try await push(zstdRepository, ["--compression", "zstd", "--compression-level", "0"])
        #expect(badLevel.status == 64)
        #expect(badLevel.stderrText.contains("1 to 19"), "\(badLevel.stderrText)")
    }
}
