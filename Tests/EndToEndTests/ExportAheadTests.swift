import Foundation
import TestWorld
import Testing

/// `push` asks the Engine for the image's export while it logs in, when ecrpush's own push will read the image
/// (`EngineExportAhead`). moto holds AssumeRole's answer `loginSeconds` (`--fault AssumeRole:slow:N:SECONDS`), so
/// nothing of the push can come before then but what was asked for ahead; the Engine's `save` event says when it wrote
/// the image out.
@Suite struct ExportAheadTests {
    typealias World = BuildAndPushTests.World

    /// Long enough for a loaded machine's Engine to write out a 20 MiB image (CI once took 3.2 s, beside 600 tests).
    static let loginSeconds = 8.0

    static func slowLoginWorld() async throws -> World {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry, extraArgs: ["--fault", "AssumeRole:slow:10:\(loginSeconds)"])
        return World(registry: registry, docker: try await DockerDaemon.shared(), moto: moto)
    }

    /// Records when the Engine finishes writing out `id` for an export (its `save` events) from now on.
    static func recordSaves(_ world: World, _ id: String) throws -> DockerEventRecording {
        try world.docker.recordEvents(filters: ["type=image", "event=save", "image=\(id)"], format: "{{.TimeNano}}")
    }

    /// The recorded saves, in seconds after `start`.
    static func saves(_ recording: DockerEventRecording, since start: Date) async -> [Double] {
        await recording.stop().compactMap { Double($0) }.map { $0 / 1e9 - start.timeIntervalSince1970 }
    }

    /// One repository, with each transport that reads the image, and two at once (a fan-out: no `ecr-api` there).
    @Test(arguments: [("auto", 1), ("registry", 1), ("ecr-api", 1), ("auto", 2), ("registry", 2)])
    func theExportIsAskedForWhileLoggingIn(transport: String, repositories count: Int) async throws {
        let world = try await Self.slowLoginWorld()
        defer { world.moto.stop() }
        // Mostly new bytes: `auto` takes ecrpush's push even where busybox came from the destination registry (other
        // tests push it there), and more than the relay takes (16 MiB), so that `ecr-api` reads the image too.
        let image = try await EngineTagsAheadTests.taggedImage(world, megabytes: 20)
        let repositories = (0..<count).map { _ in BuildAndPushTests.uniqueName("export-ahead") }
        let recording = try Self.recordSaves(world, image.id)
        let start = Date()
        let result = try await ECRPushCLI.run(
            ["push", image.tag] + repositories.flatMap { ["--repository", $0] } + ["--tag", "v1", "--create-repository", "--transport", transport],
            environment: world.environment)
        let elapsed = Date().timeIntervalSince(start)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(elapsed > Self.loginSeconds, "moto held AssumeRole for \(Self.loginSeconds) s: \(elapsed) s")
        #expect(result.stderrText.contains("Reading \(image.tag) from the Docker Engine (asked for while logging in)"), "\(result.stderrText)")
        let saves = await Self.saves(recording, since: start)
        #expect(saves.count == 1, "\(saves)")
        // Before `loginSeconds` the login cannot have ended (moto held its first answer that long): an export written
        // out by then was asked for during it.
        #expect(
            saves.allSatisfy { $0 < Self.loginSeconds },
            "the export was written out \(saves) s after the start, the login ended after \(Self.loginSeconds) s")

        let inspect = try await world.docker.docker(["image", "inspect", "--format", "{{len .RootFS.Layers}}", image.id])
        for repository in repositories {
            let layers = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
            #expect("\(layers.count)" == inspect.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "\(repository)")
        }
    }

    /// The base in the destination registry: `auto` takes the Engine's push (for two repositories, to the first, its
    /// image then copied), and the Engine never writes the image out for an export. No time is given for the base's
    /// mounts (`ECRPUSH_COPY_PROBE_SECONDS=0`): in the destination's own registry they are the Engine's path too, so
    /// `auto` need not wait for them (under load they once outlasted the probe time, and `auto` read the whole image).
    @Test(arguments: [1, 2])
    func theEnginesPushAsksForNoExport(repositories count: Int) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        // 16 MiB: a fan-out's copy of the new layer must leave the Engine's path the cheaper.
        let base = try await AutoTransportTests.pushedBase(world, prefix: "export-ahead-base", megabytes: 16)
        let app = try await AutoTransportTests.build(
            world, from: base.reference, megabytes: 1, tag: "export-ahead-app-\(UInt32.random(in: 0...UInt32.max)):1")
        let repositories = (0..<count).map { _ in BuildAndPushTests.uniqueName("export-ahead-daemon") }
        let recording = try Self.recordSaves(world, app)
        let result = try await ECRPushCLI.run(
            ["push", app] + repositories.flatMap { ["--repository", $0] } + ["--tag", "v1", "--create-repository"],
            environment: world.environment.merging(["ECRPUSH_COPY_PROBE_SECONDS": "0"]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: daemon"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("asked for while logging in"), "\(result.stderrText)")
        #expect(await Self.saves(recording, since: Date()).isEmpty)
    }

    /// A registry far from this machine (its version check on a new connection answers late; here a proxy holds the
    /// six connections `--registry` opens during the login for a second) is not read ahead by `auto`: where `auto`
    /// then finds the link slow and takes the Engine's push, an export asked for would go on beside it. ecrpush's push
    /// still reads the image once `auto` has chosen it.
    @Test func aFarRegistryIsNotReadAhead() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        try await proxy.setRules([["method": "GET", "path": "^/v2/$", "stall": 1, "times": 6]])
        let image = try await EngineTagsAheadTests.taggedImage(world, megabytes: 20)
        let repository = BuildAndPushTests.uniqueName("export-far")
        let result = try await ECRPushCLI.run(
            ["push", image.tag, "--repository", repository, "--tag", "v1", "--create-repository", "--registry", proxy.hostPort],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Reading \(image.tag) from the Docker Engine"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("asked for while logging in"), "\(result.stderrText)")
        let stalled = try await proxy.seen().filter { $0.method == "GET" && $0.path == "/v2/" && $0.status == .fault("stall") }
        #expect(stalled.count == 6, "\(stalled.count)")
    }

    /// A push that fails after its export was asked for says its own error, and ends.
    @Test func aMissingRepositoryIsStillTheError() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await EngineTagsAheadTests.taggedImage(world, megabytes: 1)
        let result = try await ECRPushCLI.run(
            ["push", image.tag, "--repository", BuildAndPushTests.uniqueName("export-ahead-missing"), "--tag", "v1", "--transport", "registry"],
            environment: world.environment)
        #expect(result.status == 1, "\(result.combinedText)")
        #expect(result.stderrText.contains("--create-repository"), "\(result.stderrText)")
    }
}
