import Foundation
import TestWorld
import Testing

/// ECR mounts a blob from another repository only where the account enabled blob mounting (off by default); without
/// it, the mount's POST opens a plain upload session (202). The fault proxy plays that registry by forwarding the
/// mount without its query. The base's layers are then copied from the base's repository through ecrpush, their
/// digests kept, where before they were compressed again from the image (new blobs, a second copy of the base);
/// each copy goes on the upload session its refused mount opened, as the distribution spec's fallback intends.
@Suite struct UnmountableBaseTests {
    typealias World = BuildAndPushTests.World

    @Test(arguments: ["registry", "auto"])
    func aBaseThatCannotBeMountedIsCopiedWithItsDigests(transport: String) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        let (built, baseRepository) = try await MeasuredLinkTests.appOnABase(world, address: proxy.hostPort, megabytes: 1)
        // Named, so that `auto`'s Engine push goes through ecrpush's relay (an image pushed by ID is pushed by the Engine).
        let app = "unmountable-app-\(UInt32.random(in: 0...UInt32.max)):1"
        _ = try await world.docker.docker(["tag", built, app])
        try await proxy.reset()
        try await proxy.setRules([["method": "POST", "path": "/blobs/uploads/$", "query": "mount=", "drop_query": true, "times": -1]])
        let repository = BuildAndPushTests.uniqueName("unmountable")
        let result = try await ECRPushCLI.run(
            [
                "push", app, "--repository", repository, "--tag", "v1", "--create-repository", "--registry", proxy.hostPort,
                "--transport", transport, "--no-blob-cache"
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Copied from \(baseRepository)"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("Mounted from"), "\(result.stderrText)")

        let baseDigests = try await AutoTransportTests.layerDigests(world, repository: baseRepository, reference: "1")
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
        #expect(appDigests.count == baseDigests.count + 1)
        #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests, "the base's own blobs, not recompressed ones")
        let reads = try await proxy.seen().filter { $0.method == "GET" && $0.path.hasPrefix("/v2/\(baseRepository)/blobs/") }
        #expect(Set(reads.map(\.path)).count >= baseDigests.count, "each base layer read from the base's repository: \(reads.map(\.path))")
        if transport == "registry" {
            // Each refused mount's upload session carries its copy: none is cancelled and opened again.
            let deletes = try await proxy.seen().filter { $0.method == "DELETE" }
            #expect(deletes.isEmpty, "\(deletes.map(\.path))")
        }
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.status == 0, "\(run.combinedText)")
    }

    /// `ecrpush copy` within one such registry: each layer goes on the upload session its refused mount opened (none
    /// is cancelled and opened again), the digests kept.
    @Test func aCopyWithinARegistryThatWillNotMountGoesOnTheMountsSessions() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        let sourceRepository = BuildAndPushTests.uniqueName("unmountable-src")
        let sourceName = "\(proxy.hostPort)/\(sourceRepository):1"
        _ = try await AutoTransportTests.build(world, from: DockerDaemon.baseImage, megabytes: 2, tag: sourceName)
        try await AutoTransportTests.dockerPush(world, sourceName, to: world.registry, at: proxy.hostPort)
        let config = TemporaryDirectory()
        let auth = Data("AWS:\(world.registry.password)".utf8).base64EncodedString()
        try #"{"auths":{"\#(proxy.hostPort)":{"auth":"\#(auth)"}}}"#.write(toFile: config.path + "/config.json", atomically: true, encoding: .utf8)
        try await proxy.reset()
        try await proxy.setRules([["method": "POST", "path": "/blobs/uploads/$", "query": "mount=", "drop_query": true, "times": -1]])

        let repository = BuildAndPushTests.uniqueName("unmountable-copy")
        let result = try await ECRPushCLI.run(
            ["copy", sourceName, "\(proxy.hostPort)/\(repository):v1"], environment: world.environment.merging(["DOCKER_CONFIG": config.path]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Copied from"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("Mounted from"), "\(result.stderrText)")
        let seen = try await proxy.seen()
        #expect(seen.filter { $0.method == "DELETE" }.isEmpty, "\(seen.filter { $0.method == "DELETE" }.map(\.path))")
        let posts = seen.filter { $0.method == "POST" && $0.path.hasPrefix("/v2/\(repository)/blobs/uploads") }
        let layers = try await AutoTransportTests.layerDigests(world, repository: sourceRepository, reference: "1")
        #expect(posts.count == layers.count + 1, "one POST per blob (the layers and the config), the mount's: \(posts.map(\.path))")
        #expect(try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1") == layers)
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.status == 0, "\(run.combinedText)")
    }
}
