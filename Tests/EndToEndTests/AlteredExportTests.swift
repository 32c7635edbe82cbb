import Foundation
import TestWorld
import Testing

/// An export whose bytes are not what the Engine's layout promised (a byte changed on the way, or an Engine that
/// lies): the push reads the image again and compresses every layer, never naming a blob for bytes it did not check.
/// The Engine is reached through tools/faultproxy.py, which inverts one byte of the first export it relays.
@Suite struct AlteredExportTests {
    typealias World = BuildAndPushTests.World

    /// One repository (`BlobPush`) and two at once (`FanOutPush`).
    @Test(arguments: [1, 2])
    func anAlteredBaseLayerMakesThePushReadTheImageAgain(repositories count: Int) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        // The base's 16 MiB layer is most of the export: whatever order the Engine writes the layers in (busybox's
        // and the app's are 1-3 MiB), its bytes cover offset 10 MiB.
        let base = try await AutoTransportTests.pushedBase(world, prefix: "altered-base", megabytes: 16)
        let app = try await AutoTransportTests.build(world, from: base.reference, megabytes: 1)
        let proxy = try await FaultProxy.start(for: world.docker)
        defer { proxy.stop() }
        try await proxy.setRules([["method": "GET", "path": "/images/get$", "times": 1, "flip": 10 << 20]])
        let repositories = (0..<count).map { _ in BuildAndPushTests.uniqueName("altered") }

        let result = try await ECRPushCLI.run(
            ["push", app, "--tag", "v1", "--create-repository", "--transport", "registry"] + repositories.flatMap { ["--repository", $0] },
            environment: world.environment.merging(["DOCKER_HOST": "tcp://\(proxy.hostPort)"]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("was not the layer its name promised; reading \(app) again"), "\(result.stderrText)")
        let exports = try await proxy.seen().filter { $0.method == "GET" && $0.path.hasSuffix("/images/get") }
        #expect(exports.count == 2, "the export and the one read again: \(exports)")

        // What each repository holds pulls back to the app's layers and runs, the base's blobs named as the base has them.
        let baseLayers = try await AutoTransportTests.layerDigests(world, repository: base.repository, reference: "1")
        let diffIDs = try await world.docker.docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", app])
        for repository in repositories {
            let layers = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
            #expect(Array(layers.prefix(baseLayers.count)) == baseLayers, "\(repository)")
            let reference = "\(world.registry.hostPort)/\(repository):v1"
            let run = try await world.pullAndRun(reference, command: ["true"])
            try #require(run.status == 0, "\(run.combinedText)")
            let pulled = try await world.docker.docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", reference])
            #expect(pulled.stdoutText == diffIDs.stdoutText, "\(repository)")
        }
    }
}
