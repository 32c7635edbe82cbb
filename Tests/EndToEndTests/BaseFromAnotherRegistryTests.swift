import Foundation
import TestWorld
import Testing

/// A base image pulled from another registry (as from Docker Hub): ecrpush reads its manifest there with docker's
/// login for it, copies its blobs into the destination as they are (same digests), and the app's manifest names
/// them. Both registries sit behind a recording proxy, so the test sees which login went where.
@Suite struct BaseFromAnotherRegistryTests {
    typealias World = BuildAndPushTests.World

    /// The other registry (basic auth as user `hub`), the proxy in front of it, and a docker config with its login.
    struct Source {
        let registry: LoopbackRegistry
        let proxy: FaultProxy
        let dockerConfig: TemporaryDirectory
        let repository: String
        var baseName: String { "\(proxy.hostPort)/\(repository):1" }

        func stop() async {
            proxy.stop()
            await registry.stop()
        }
    }

    /// Builds a base of `megabytes` on the daemon's base image and pushes it to a new registry through its proxy
    /// with the docker CLI, as the image a CI runner pulls (its RepoDigest names the proxy's host).
    static func publishBase(_ world: World, megabytes: Int) async throws -> Source {
        let registry = try await LoopbackRegistry.start(username: "hub")
        let proxy = try await FaultProxy.start(for: registry, foreignAddsLogin: false)
        let config = TemporaryDirectory()
        let auth = Data("hub:\(registry.password)".utf8).base64EncodedString()
        try #"{"auths":{"\#(proxy.hostPort)":{"auth":"\#(auth)"}}}"#.write(toFile: config.path + "/config.json", atomically: true, encoding: .utf8)
        let source = Source(registry: registry, proxy: proxy, dockerConfig: config, repository: BuildAndPushTests.uniqueName("hub-base"))
        _ = try await AutoTransportTests.build(world, from: DockerDaemon.baseImage, megabytes: megabytes, tag: source.baseName)
        let push = try await runProcess("docker", ["--config", config.path, "-H", world.docker.host, "push", source.baseName])
        guard push.status == 0 else { throw WorldError.commandFailed(command: "docker push", status: push.status, output: push.combinedText) }
        try await proxy.reset()
        return source
    }

    /// A base of `megabytes` in the other registry, the destination registry behind a recording proxy, and an app
    /// image of 1 MiB on the base (by ID, or by `appTag` where given: the relay's push needs a name).
    struct Scene {
        let source: Source
        let destination: FaultProxy
        let app: String

        init(_ world: World, baseMegabytes: Int, appTag: String? = nil) async throws {
            source = try await BaseFromAnotherRegistryTests.publishBase(world, megabytes: baseMegabytes)
            destination = try await FaultProxy.start(for: world.registry, foreignAddsLogin: false)
            let id = try await AutoTransportTests.build(world, from: source.baseName, megabytes: 1, tag: appTag)
            app = appTag ?? id
        }
    }

    /// The layer digests of the base's manifest in its own registry.
    static func baseDigests(_ source: Source) async throws -> [String] {
        let manifest = try await source.registry.manifest(repository: source.repository, reference: "1")
        return try #require(manifest["layers"] as? [[String: Any]]).compactMap { $0["digest"] as? String }
    }

    func push(
        _ world: World, _ image: String, repository: String, destination: FaultProxy, source: Source, extra: [String] = [],
        environment: [String: String] = [:]
    )
        async throws -> ProcessResult
    {
        try await ECRPushCLI.run(
            ["push", image, "--repository", repository, "--tag", "v1", "--create-repository", "--registry", destination.hostPort] + extra,
            environment: world.environment.merging(["DOCKER_CONFIG": source.dockerConfig.path]) { $1 }.merging(environment) { $1 })
    }

    /// `auto` follows the copy for a minute here, so that it waits for the copy even on a busy CI machine (where
    /// a 1 MiB copy through the proxy can take over a second: a copy with seconds to go runs beside ecrpush's push
    /// instead, `aSlowCopyRunsBesideEcrpushsPush`).
    @Test func theBaseIsCopiedWithItsDigestsAndTheEnginesPushSkipsIt() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let scene = try await Scene(world, baseMegabytes: 1)
        let (source, destination, app) = (scene.source, scene.destination, scene.app)
        defer { destination.stop() }
        let repository = BuildAndPushTests.uniqueName("hub-app")

        let result = try await push(
            world, app, repository: repository, destination: destination, source: source, environment: ["ECRPUSH_COPY_PROBE_SECONDS": "60"])
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Copied from \(source.proxy.hostPort)/\(source.repository)"), "\(result.stderrText)")
        #expect(result.stderrText.contains("Transport auto: daemon"), "\(result.stderrText)")

        let baseDigests = try await Self.baseDigests(source)
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
        #expect(appDigests.count == baseDigests.count + 1)
        #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests, "the base's own blobs, copied as they are")

        // Each login went to its own registry only.
        let sourceSeen = try await source.proxy.seen()
        let destinationSeen = try await destination.seen()
        #expect(sourceSeen.contains { $0.username == "hub" }, "the source was read with docker's login for it")
        #expect(!sourceSeen.contains { $0.username != nil && $0.username != "hub" }, "\(sourceSeen.compactMap(\.username))")
        #expect(!destinationSeen.isEmpty)
        #expect(!destinationSeen.contains { $0.username == "hub" }, "the source's login never reached the destination")

        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
        await source.stop()
    }

    /// The base's manifest is read from its registry while the destination's login is made: moto holds AssumeRole
    /// 8 s (`ExportAheadTests.slowLoginWorld`), and the source's proxy sees the manifest read well before then. The
    /// push then copies the base with that manifest's digests, as it does after a quick login. To one repository,
    /// to two (a fan-out), and through ECR's API (whose login is the repository's look-up).
    @Test(arguments: [("auto", 1), ("auto", 2), ("ecr-api", 1)])
    func theBasesManifestIsReadWhileLoggingIn(transport: String, repositories count: Int) async throws {
        let world = try await ExportAheadTests.slowLoginWorld()
        defer { world.moto.stop() }
        let scene = try await Scene(world, baseMegabytes: 1)
        let (source, destination, app) = (scene.source, scene.destination, scene.app)
        defer { destination.stop() }
        let repositories = (0..<count).map { _ in BuildAndPushTests.uniqueName("hub-ahead") }
        let start = ContinuousClock.now
        async let pushed = push(
            world, app, repository: repositories[0], destination: destination, source: source,
            extra: repositories.dropFirst().flatMap { ["--repository", $0] } + ["--transport", transport],
            environment: ["ECRPUSH_COPY_PROBE_SECONDS": "60"])
        var readWhileLoggingIn = false
        // Before moto's held answer the login cannot have ended: a read seen then was made during it (polled until
        // a tenth of a second before, for load).
        let loginEnds = start + .seconds(ExportAheadTests.loginSeconds)
        while ContinuousClock.now < loginEnds - .milliseconds(100), !readWhileLoggingIn {
            readWhileLoggingIn = try await source.proxy.seen().contains {
                $0.method == "GET" && $0.path.hasPrefix("/v2/\(source.repository)/manifests/sha256:")
            }
            if !readWhileLoggingIn { try await Task.sleep(for: .milliseconds(50)) }
        }
        let result = try await pushed
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(ContinuousClock.now > loginEnds, "moto held AssumeRole for \(ExportAheadTests.loginSeconds) s")
        let paths = try await source.proxy.seen().map(\.path)
        #expect(readWhileLoggingIn, "the base's manifest was read while logging in: \(paths)")
        #expect(result.stderrText.contains("Copied from \(source.proxy.hostPort)/\(source.repository)"), "\(result.stderrText)")
        let baseDigests = try await Self.baseDigests(source)
        for repository in repositories {
            let appDigests = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
            #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests, "\(repository): the base's own blobs, copied as they are")
        }
        await source.stop()
    }

    /// A source that lost one blob and serves wrong bytes for another: neither is copied (the copy checks the
    /// digest before the upload's last byte), both are compressed from the image, and the manifest names only
    /// blobs the destination has. Through the registry API and through ECR's.
    @Test(arguments: ["registry", "ecr-api"])
    func aSourceThatLostABlobOrServesWrongBytesFallsBackToCompressing(transport: String) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let source = try await Self.publishBase(world, megabytes: 4)
        let baseDigests = try await Self.baseDigests(source)
        try #require(baseDigests.count == 2)
        #expect(try await source.registry.deleteBlob(repository: source.repository, digest: baseDigests[0]) == 202)
        let hex = String(baseDigests[1].dropFirst("sha256:".count))
        let data = "\(source.registry.directory)/registry/docker/registry/v2/blobs/sha256/\(hex.prefix(2))/\(hex)/data"
        let handle = try #require(FileHandle(forUpdatingAtPath: data))
        try handle.seek(toOffset: 100)
        try handle.write(contentsOf: Data(repeating: 0x5a, count: 64))
        try handle.close()
        let destination = try await FaultProxy.start(for: world.registry, foreignAddsLogin: false)
        defer { destination.stop() }
        let app = try await AutoTransportTests.build(world, from: source.baseName, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("hub-broken")

        let result = try await push(
            world, app, repository: repository, destination: destination, source: source, extra: ["--transport", transport, "--no-blob-cache"])
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("could not be copied"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("Copied from"), "\(result.stderrText)")
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
        #expect(!appDigests.contains(baseDigests[0]) && !appDigests.contains(baseDigests[1]), "\(appDigests)")
        for digest in appDigests { #expect(try await world.registry.blobStatus(repository: repository, digest: digest) == 200) }
        #expect(try await world.registry.blobStatus(repository: repository, digest: baseDigests[1]) == 404, "no blob stored under a wrong digest")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
        await source.stop()
    }

    /// `ecr-api` copies a base's layer from another registry in parts (moto suggests 10 MiB): each part is a `Range`
    /// read (206) while the part before goes up, and the layer keeps its digest. The source's first answer for it
    /// is a 503 (a hiccup): that part is read again, and the copy goes on.
    @Test func theECRAPICopiesABaseLayerInParts() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let scene = try await Scene(world, baseMegabytes: 12)
        let (source, destination, app) = (scene.source, scene.destination, scene.app)
        defer { destination.stop() }
        let repository = BuildAndPushTests.uniqueName("hub-parts")
        let large = try #require(try await Self.baseDigests(source).last)
        try await source.proxy.setRules([["method": "GET", "path": "/blobs/\(large)", "times": 1, "status": 503]])
        let result = try await push(
            world, app, repository: repository, destination: destination, source: source, extra: ["--transport", "ecr-api", "--no-blob-cache"])
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Copied from \(source.proxy.hostPort)/\(source.repository)"), "\(result.stderrText)")
        let baseDigests = try await Self.baseDigests(source)
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
        #expect(appDigests.count == baseDigests.count + 1)
        #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests, "the base's own blobs: \(result.stderrText)")
        let reads = try await source.proxy.seen().filter { $0.method == "GET" && $0.path.hasSuffix("/blobs/\(large)") }
        #expect(
            reads.map(\.status) == [.code(503), .code(206), .code(206)], "a hiccup, then two parts of 10 and 2 MiB: \(reads.map(\.status))")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
        await source.stop()
    }

    /// What `pushWithStalledSource` set up and what the push gave.
    struct StalledCopy {
        let source: Source
        let destination: FaultProxy
        let repository: String
        let baseDigests: [String]
        let result: ProcessResult
    }

    /// A 4 MiB base in another registry whose first two blob downloads say nothing for 2.5 s (a copy that moves
    /// nothing for a while, as over a slow link), then `moreRules`; the app on it pushed with `auto` (and `extra`).
    func pushWithStalledSource(
        _ world: World, name: String, extra: [String] = ["--no-engine-relay"], appTag: String? = nil,
        moreRules: (_ baseDigests: [String]) -> [[String: any Sendable]] = { _ in [] }
    ) async throws -> StalledCopy {
        let scene = try await Scene(world, baseMegabytes: 4, appTag: appTag)
        let (source, destination, app) = (scene.source, scene.destination, scene.app)
        let repository = BuildAndPushTests.uniqueName(name)
        let baseDigests = try await Self.baseDigests(source)
        try await source.proxy.setRules([["method": "GET", "path": "/blobs/sha256:", "times": 2, "stall": 2.5]] + moreRules(baseDigests))
        let result = try await push(
            world, app, repository: repository, destination: destination, source: source, extra: ["--no-blob-cache"] + extra)
        return StalledCopy(source: source, destination: destination, repository: repository, baseDigests: baseDigests, result: result)
    }

    /// Without the relay (`--no-engine-relay`), `auto` does not wait for a copy that moves nothing before choosing,
    /// but starts ecrpush's push beside it; the export waits for the copy at its first layer, and the manifest names
    /// the base's own blobs, copied once the source answers.
    @Test func aSlowCopyRunsBesideEcrpushsPush() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let stalled = try await pushWithStalledSource(world, name: "hub-slow")
        defer { stalled.destination.stop() }
        let (result, source) = (stalled.result, stalled.source)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: registry"), "\(result.stderrText)")
        #expect(result.stderrText.contains("is still being copied into this repository (nothing copied yet)"), "\(result.stderrText)")
        #expect(result.stderrText.contains("Copied from \(source.proxy.hostPort)/\(source.repository)"), "\(result.stderrText)")
        let stalls = try await source.proxy.seen().filter { $0.status == .fault("stall") }
        #expect(stalls.count == 2, "both first downloads stalled: \(stalls.map(\.path))")

        let appDigests = try await AutoTransportTests.layerDigests(world, repository: stalled.repository, reference: "v1")
        #expect(appDigests.count == stalled.baseDigests.count + 1)
        #expect(Array(appDigests.prefix(stalled.baseDigests.count)) == stalled.baseDigests, "the base's own blobs, from the copy beside")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(stalled.repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
        await source.stop()
    }

    /// With the relay, the Engine's push is the one beside a slow copy: its new layer goes up meanwhile (it reads no
    /// more than that layer, where ecrpush's push would export the whole image), and the manifest waits for the copy
    /// and names the base's own blobs.
    @Test func aSlowCopyRunsBesideTheEnginesPushThroughTheRelay() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let stalled = try await pushWithStalledSource(
            world, name: "hub-slow-relay", extra: [], appTag: "\(BuildAndPushTests.uniqueName("hub-slow-relay-app")):1")
        defer { stalled.destination.stop() }
        let (result, source) = (stalled.result, stalled.source)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: daemon"), "\(result.stderrText)")
        #expect(result.stderrText.contains("Copied from \(source.proxy.hostPort)/\(source.repository)"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("from the Docker Engine"), "the image is not exported: \(result.stderrText)")
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: stalled.repository, reference: "v1")
        #expect(Array(appDigests.prefix(stalled.baseDigests.count)) == stalled.baseDigests, "the base's own blobs")
        #expect(appDigests.count == stalled.baseDigests.count + 1)
        let seen = try await stalled.destination.seen()
        let blobRequests = seen.filter { $0.path.contains("/blobs/") }.map {
            "\($0.method) \($0.path) \($0.length.map(String.init) ?? "chunked") \($0.status.map { "\($0)" } ?? "cut off")"
        }
        let uploads = seen.filter(\.sendsBlob)
        // On a loaded machine a read from the source can fail mid-copy (CI saw curl's "Empty reply from server" on a
        // kept-alive connection): that upload is cut off and the copy sent again, which stderr says.
        let taken = uploads.filter { $0.status == .code(201) || $0.status == .code(202) }
        #expect(
            taken.count == stalled.baseDigests.count + 2,
            "the base's layers copied, the new layer and the config, each taken once: \(blobRequests.joined(separator: "\n"))\n\(result.stderrText)")
        let retries = result.stderrText.split(separator: "\n").filter { $0.hasPrefix("retrying copy of ") }
        #expect(uploads.count - taken.count <= retries.count, "each upload cut off was retried: \(blobRequests.joined(separator: "\n"))")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(stalled.repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
        await source.stop()
    }

    /// The export skips the layers being copied on the copy's word; when one copy fails after all (the source loses
    /// the blob once the push is under way), the image is read again, that layer compressed and uploaded, and the
    /// manifest names only blobs the destination holds.
    @Test func aCopyThatFailsBesideThePushHasItsLayerCompressedAfterAll() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let stalled = try await pushWithStalledSource(world, name: "hub-lost") { digests in
            [["method": "GET", "path": "/blobs/\(digests[1])", "times": -1, "status": 404]]
        }
        defer { stalled.destination.stop() }
        let (result, baseDigests) = (stalled.result, stalled.baseDigests)
        try #require(result.status == 0 && baseDigests.count == 2, "\(result.combinedText)")
        #expect(result.stderrText.contains("is still being copied into this repository"), "\(result.stderrText)")
        #expect(result.stderrText.contains("1 layers of the base could not be copied after all; reading"), "\(result.stderrText)")
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: stalled.repository, reference: "v1")
        #expect(appDigests.count == baseDigests.count + 1)
        #expect(appDigests.first == baseDigests[0], "the layer that was copied keeps the base's blob")
        #expect(!appDigests.contains(baseDigests[1]), "the lost one is ecrpush's own compression")
        for digest in appDigests {
            #expect(try await world.registry.blobStatus(repository: stalled.repository, digest: digest) == 200, "\(digest)")
        }
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(stalled.repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
        await stalled.source.stop()
    }

    /// With ecrpush's own registry push, the copied base is named in the manifest too (no Engine push involved).
    @Test func theRegistryTransportNamesTheCopiedBase() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let scene = try await Scene(world, baseMegabytes: 4)
        let (source, destination, app) = (scene.source, scene.destination, scene.app)
        defer { destination.stop() }
        let repository = BuildAndPushTests.uniqueName("hub-registry")
        let result = try await push(
            world, app, repository: repository, destination: destination, source: source, extra: ["--transport", "registry", "--no-blob-cache"])
        try #require(result.status == 0, "\(result.combinedText)")
        let baseDigests = try await Self.baseDigests(source)
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
        #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests, "\(result.stderrText)")
        #expect(!(try await destination.seen()).contains { $0.username == "hub" })
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
        await source.stop()
    }

    /// A push to two registries × two repositories through ecrpush's push (`--transport registry`: one read of the
    /// image, `FanOutPush`) gets the base into each destination too, while the Engine writes the export out: in each registry, copied once into the first
    /// repository and mounted from there into the second. Every manifest names the base's own blobs, and the
    /// source's login stays with the source.
    @Test func aFanOutPushCopiesTheBaseIntoEveryDestination() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let scene = try await Scene(world, baseMegabytes: 4)
        let (source, destination, app) = (scene.source, scene.destination, scene.app)
        defer { destination.stop() }
        // A second registry that takes the same ECR token (as two regions' registries take theirs).
        let second = try await LoopbackRegistry.start(password: world.registry.password)
        let repositories = [BuildAndPushTests.uniqueName("hub-fan-a"), BuildAndPushTests.uniqueName("hub-fan-b")]
        let result = try await ECRPushCLI.run(
            [
                "push", app, "--tag", "v1", "--create-repository", "--registry", destination.hostPort, "--registry", second.hostPort,
                "--no-blob-cache",
                "--transport", "registry"
            ]
                + repositories.flatMap { ["--repository", $0] },
            environment: world.environment.merging(["DOCKER_CONFIG": source.dockerConfig.path]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Copied from \(source.proxy.hostPort)/\(source.repository)"), "\(result.stderrText)")
        #expect(result.stderrText.contains("Mounted from \(repositories[0])"), "\(result.stderrText)")
        // The export is requested first; the copies run while the Engine writes it out.
        let reading = try #require(result.stderrText.range(of: "Reading \(app) from the Docker Engine"))
        let copied = try #require(result.stderrText.range(of: "Copied from"))
        #expect(reading.lowerBound < copied.lowerBound, "\(result.stderrText)")
        let baseDigests = try await Self.baseDigests(source)
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: repositories[0], reference: "v1")
        #expect(appDigests.count == baseDigests.count + 1)
        #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests, "\(result.stderrText)")
        for registry in [world.registry, second] {
            for repository in repositories {
                #expect(try await registry.manifestStatus(repository: repository, reference: "v1") == 200)
                for digest in appDigests { #expect(try await registry.blobStatus(repository: repository, digest: digest) == 200) }
            }
        }
        let blobReads = try await source.proxy.seen().filter { $0.method == "GET" && $0.path.contains("/blobs/") }
        for digest in baseDigests {
            #expect(blobReads.filter { $0.path.hasSuffix(digest) }.count == 2, "each base blob read once per registry: \(blobReads.map(\.path))")
        }
        #expect(!(try await destination.seen()).contains { $0.username == "hub" }, "the source's login never reached the destination")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repositories[1]):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
        await second.stop()
        await source.stop()
    }

    /// A base in a registry with a token service (as Docker Hub): read with an anonymous pull token when docker has
    /// no login for it; the destination's login never goes to that token service.
    @Test func aBaseFromATokenRegistryIsReadWithAnAnonymousToken() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let hub = try await TokenRegistry.start()
        let baseName = "\(hub.hostPort)/library/\(BuildAndPushTests.uniqueName("token-base")):1"
        _ = try await AutoTransportTests.build(world, from: DockerDaemon.baseImage, megabytes: 4, tag: baseName)
        let publisher = TemporaryDirectory()
        let cli = ["--config", publisher.path, "-H", world.docker.host]
        let login = try await runProcess(
            "docker", cli + ["login", "--username", "hub", "--password-stdin", hub.hostPort], stdin: Data(hub.registry.password.utf8))
        let published = login.status == 0 ? try await runProcess("docker", cli + ["push", baseName]) : login
        try #require(published.status == 0, "\(published.combinedText)")

        let app = try await AutoTransportTests.build(world, from: baseName, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("token-app")
        let anonymous = TemporaryDirectory()
        let result = try await ECRPushCLI.run(
            ["push", app, "--repository", repository, "--tag", "v1", "--create-repository", "--no-blob-cache"],
            environment: world.environment.merging(["DOCKER_CONFIG": anonymous.path]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Copied from \(hub.hostPort)/library/"), "\(result.stderrText)")
        let tokens = hub.tokenLog()
        #expect(tokens.contains("token: anonymous"), "\(tokens)")
        #expect(!tokens.contains("token: AWS"), "the destination's login went to the source's token service: \(tokens)")
        let manifest = try await hub.registry.manifestStatus(repository: "x", reference: "1")
        #expect(manifest == 401, "the source really requires tokens")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
        await hub.stop()
    }
}
