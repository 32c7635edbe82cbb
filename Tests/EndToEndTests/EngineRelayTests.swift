import Foundation
import TestWorld
import Testing

/// The Engine's push through ecrpush's relay on 127.0.0.1 (`EngineRelayPush`): the Engine reads and compresses the
/// layers, ecrpush sends them on with its own login. Asserted on what the registry saw (its access log names each
/// request's client), what the image pulls back as, and what is left on the Engine and on disk.
@Suite struct EngineRelayTests {
    typealias World = BuildAndPushTests.World

    /// The registry's access log lines for `repository`: distribution logs each request with its URI and user agent.
    static func registryRequests(_ world: World, repository: String) throws -> [Substring] {
        let log = try String(contentsOfFile: world.registry.directory + "/registry.log", encoding: .utf8)
        return log.split(separator: "\n").filter { $0.contains("/v2/\(repository)/") && $0.contains("http.request.useragent") }
    }

    /// Those the Engine made itself (its user agent is docker's; a log line may name a path with "docker/" in it).
    static func engineRequests(_ world: World, repository: String) throws -> [Substring] {
        try registryRequests(world, repository: repository).filter { $0.contains("useragent=docker/") || $0.contains("useragent=\"docker/") }
    }

    static func inspect(_ world: World, _ id: String, _ field: String) async throws -> [String] {
        let inspect = try await world.docker.docker(["image", "inspect", "--format", "{{json .\(field)}}", id])
        try #require(inspect.status == 0, "\(inspect.combinedText)")
        return try JSONDecoder().decode([String]?.self, from: inspect.stdout) ?? []
    }

    /// `push` of a new image (a 6 MiB layer on the base: more than `RegistryRelay.sendOnArrivalPast`, so that the
    /// relay sends it on as it arrives) into a new repository of `registry`, through the Engine's push (and so the
    /// relay) unless `arguments` say otherwise; `temporary`: its TMPDIR.
    static func pushNewImage(
        _ world: World, to registry: String, name: String, arguments: [String] = ["--transport", "daemon"], temporary: TemporaryDirectory? = nil
    ) async throws -> (image: (id: String, tag: String), repository: String, result: ProcessResult) {
        let image = try await EngineTagsAheadTests.taggedImage(world, megabytes: 6, ownLayer: true)
        let repository = BuildAndPushTests.uniqueName(name)
        var environment = world.environment
        if let temporary { environment["TMPDIR"] = temporary.path }
        let result = try await ECRPushCLI.run(
            ["push", image.tag, "--repository", repository, "--tag", "v1", "--create-repository", "--registry", registry] + arguments,
            environment: environment)
        return (image, repository, result)
    }

    @Test func theEngineSendsNothingToTheRegistryItself() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await EngineTagsAheadTests.taggedImage(world, megabytes: 6, ownLayer: true)
        let repository = BuildAndPushTests.uniqueName("relay")
        let temporary = TemporaryDirectory()
        let result = try await ECRPushCLI.run(
            [
                "push", image.tag, "--repository", repository, "--tag", "v1", "--tag", "v2", "--create-repository", "--transport", "daemon",
                "--registry", world.registry.hostPort, "--output", "json"
            ],
            environment: world.environment.merging(["TMPDIR": temporary.path]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")

        // Every request for the repository came from ecrpush (the Engine never had the registry's password), and the
        // one manifest went under both tags.
        let requests = try Self.registryRequests(world, repository: repository)
        #expect(!requests.isEmpty)
        #expect(requests.allSatisfy { $0.contains("useragent=ecrpush") || $0.contains("useragent=\"ecrpush") }, "\(requests.prefix(3))")
        let fromTheEngine = try Self.engineRequests(world, repository: repository)
        #expect(fromTheEngine.isEmpty, "\(fromTheEngine.prefix(3))")
        // The layer went on as the Engine pushed it (a PATCH: the registry's access log), not once the relay had it
        // whole (a PUT with the blob).
        let accessLog = try String(contentsOfFile: world.registry.directory + "/registry.log", encoding: .utf8)
        let ours = accessLog.split(separator: "\n").filter { $0.contains("/v2/\(repository)/") && $0.contains("HTTP/1.1\"") }
        #expect(ours.contains { $0.contains("\"PATCH /v2/\(repository)/blobs/uploads/") }, "\(ours.joined(separator: "\n"))\n\(result.stderrText)")
        let v1 = try await world.registry.manifestBytes(repository: repository, reference: "v1")
        #expect(try await world.registry.manifestBytes(repository: repository, reference: "v2") == v1)
        #expect(result.stdoutText.contains("sha256:"), "\(result.stdoutText)")
        // Progress names the registry the image goes to, never the relay's 127.0.0.1:<port>.
        #expect(result.stderrText.contains("The push refers to repository [\(world.registry.hostPort)/\(repository)]"), "\(result.stderrText)")
        #expect(result.stderrText.components(separatedBy: "The push refers to repository").count == 2, "\(result.stderrText)")

        // The image pulls back to the same layers, and the relay left no name, digest reference or spooled upload.
        let location = "\(world.registry.hostPort)/\(repository)"
        #expect(try await Self.inspect(world, image.id, "RepoTags") == [image.tag])
        #expect(try await Self.inspect(world, image.id, "RepoDigests").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty, "no spooled upload is left")
        let run = try await world.pullAndRun("\(location):v1", command: ["sh", "-c", "wc -c < /layer"])
        #expect(run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "6291456", "\(run.combinedText)")
    }

    /// An image named by its ID (which removing a name could remove, were it its last) goes through the relay once the
    /// Engine has described it, named for the relay by that ID: it keeps its own name, and loses the relay's.
    @Test func anImageNamedByItsIDKeepsItsOwnName() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await EngineTagsAheadTests.taggedImage(world, megabytes: 1)
        let shortID = String(image.id.dropFirst("sha256:".count).prefix(12))
        let recording = try EngineTagsAheadTests.recordTagEvents(world, image.id)
        let repository = BuildAndPushTests.uniqueName("relay-by-id")
        let result = try await ECRPushCLI.run(
            [
                "push", shortID, "--repository", repository, "--tag", "v1", "--create-repository", "--transport", "daemon",
                "--registry", world.registry.hostPort
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let events = await EngineTagsAheadTests.tagEvents(recording)
        #expect(events.first?.hasPrefix("tag 127.0.0.1:") == true, "through the relay: \(events)")
        #expect(try await Self.inspect(world, image.id, "RepoTags") == [image.tag])
        #expect(try await Self.inspect(world, image.id, "RepoDigests").allSatisfy { !$0.hasPrefix("127.0.0.1:") })
        #expect(try await world.registry.manifestBytes(repository: repository, reference: "v1").isEmpty == false)
    }

    /// A push of an image that does not exist says so, as the Engine's description of it does; the relay started
    /// from its name meanwhile goes, and nothing is pushed.
    @Test func aMissingImageIsSaidAndTheRelayGoes() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let missing = BuildAndPushTests.uniqueName("no-such-image") + ":v1"
        let temporary = TemporaryDirectory()
        let result = try await ECRPushCLI.run(
            [
                "push", missing, "--repository", BuildAndPushTests.uniqueName("relay-missing-image"), "--tag", "v1", "--registry",
                world.registry.hostPort
            ],
            environment: world.environment.merging(["TMPDIR": temporary.path]) { $1 })
        #expect(result.status != 0)
        #expect(result.stderrText.contains(missing), "\(result.stderrText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty, "no relay spool is left")
    }

    /// The Engine's push starts while the login is made; a push that then fails (a missing repository) gives it up,
    /// and the relay's name for the image goes with it.
    @Test func aPushThatFailsLeavesNoName() async throws {
        // moto holds AssumeRole for seconds, so the repository is found missing well after the Engine's push started.
        let world = try await ExportAheadTests.slowLoginWorld()
        defer { world.moto.stop() }
        let image = try await EngineTagsAheadTests.taggedImage(world)
        let recording = try EngineTagsAheadTests.recordTagEvents(world, image.id)
        let result = try await ECRPushCLI.run(
            ["push", image.tag, "--repository", BuildAndPushTests.uniqueName("relay-missing"), "--tag", "v1", "--registry", world.registry.hostPort],
            environment: world.environment)
        #expect(result.status != 0)
        #expect(result.stderrText.contains("--create-repository"), "\(result.stderrText)")
        #expect(try await Self.inspect(world, image.id, "RepoTags") == [image.tag])
        let events = await EngineTagsAheadTests.tagEvents(recording)
        #expect(events.count == 2 && events.first?.hasPrefix("tag 127.0.0.1:") == true && events.last == "untag", "\(events)")
        #expect(!result.stderrText.contains("Preparing"), "the Engine's progress is not shown for a push given up")
    }

    /// The relay answers the Engine's upload before the registry has the layer; the registry then refuses it
    /// (403 DENIED, as ECR does for a policy that forbids the upload): the push fails with the registry's words, the
    /// manifest is never sent, and nothing is tagged or left behind.
    @Test func aLayerTheRegistryRefusesFailsThePushBeforeItsManifest() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        let denied = #"{"errors":[{"code":"DENIED","message":"uploads forbidden by policy"}]}"#
        try await proxy.setRules([
            // The layer as the Engine sends it (a chunked PATCH), and whole.
            ["method": "PATCH", "path": FaultInjectionTests.uploads, "chunked": true, "status": 403, "times": -1, "body": denied],
            ["method": "PUT", "path": FaultInjectionTests.uploads, "min_length": 65537, "status": 403, "times": -1, "body": denied]
        ])
        let temporary = TemporaryDirectory()
        let (image, repository, result) = try await Self.pushNewImage(world, to: proxy.hostPort, name: "relay-refused", temporary: temporary)
        #expect(result.status == 1, "\(result.combinedText)")
        #expect(result.stderrText.contains("uploads forbidden by policy"), "\(result.stderrText)")
        let seen = try await proxy.seen()
        #expect(seen.contains { $0.sendsBlob && $0.status == .code(403) }, "the layer went to the registry")
        #expect(!seen.contains { $0.method == "PUT" && $0.path.contains(FaultInjectionTests.manifestPath) }, "no manifest was sent")
        #expect(try Self.engineRequests(world, repository: repository).isEmpty)
        #expect(try await Self.inspect(world, image.id, "RepoTags") == [image.tag])
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty, "no spooled upload is left")
    }

    /// A registry that fails once while the relay sends a blob on as the Engine pushes it (a 503 on its chunked
    /// `PATCH`, a connection reset half-way through it, a 503 on the `PUT` that names its digest), or refuses the
    /// manifest for a moment (429 with Retry-After): the blob is sent whole, the manifest still waits for it, and
    /// the image pulls back and runs.
    @Test(
        arguments: [
            ["method": "PATCH", "path": FaultInjectionTests.uploads, "chunked": true, "status": 503],
            ["method": "PATCH", "path": FaultInjectionTests.uploads, "chunked": true, "reset": "during"],
            ["method": "PUT", "path": FaultInjectionTests.uploads, "max_length": 0, "status": 503],
            [
                "method": "PUT", "path": FaultInjectionTests.manifestPath, "status": 429, "headers": ["Retry-After": "1"],
                "body": #"{"errors":[{"code":"TOOMANYREQUESTS","message":"Rate exceeded"}]}"#
            ]
        ] as [[String: any Sendable]])
    func aFlakyRegistryBehindTheRelay(_ rule: [String: any Sendable]) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        try await proxy.setRules([rule])
        let (_, repository, result) = try await Self.pushNewImage(world, to: proxy.hostPort, name: "relay-flaky")
        try #require(result.status == 0, "\(result.combinedText)")
        let seen = try await proxy.seen()
        let injected = seen.contains { entry in
            switch entry.status {
            case .fault(_)?, .code(503)?, .code(429)?: true
            default: false
            }
        }
        #expect(injected, "the fault happened")
        #expect(try Self.engineRequests(world, repository: repository).isEmpty, "the relay carried the push")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1", command: ["sh", "-c", "wc -c < /layer"])
        #expect(run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "6291456", "\(run.combinedText)")
    }

    /// Where the registry is known before the login (`--registry`), connections to it are opened while the login is
    /// made (a version check without credentials each), and the push's requests go over them.
    @Test func connectionsOpenedDuringTheLoginCarryThePush() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        let (_, _, result) = try await Self.pushNewImage(world, to: proxy.hostPort, name: "relay-warm", arguments: [])
        try #require(result.status == 0, "\(result.combinedText)")
        let seen = try await proxy.seen()
        let opened = seen.filter { $0.method == "GET" && $0.path == "/v2/" && !$0.authorization }
        #expect((1...6).contains(opened.count), "\(seen.map { "\($0.method) \($0.path)" })")
        let warm = Set(opened.compactMap(\.connection))
        let pushedOver = seen.filter { $0.authorization && $0.connection.map(warm.contains) == true }
        #expect(!pushedOver.isEmpty, "the push's requests went over the connections opened ahead")
    }

    /// An Engine on a local socket whose 127.0.0.1 is not ecrpush's (rootless Docker's network namespace) cannot
    /// reach the relay: the push says so and the Engine pushes to the registry itself, which it can reach.
    @Test func anEngineThatCannotReachTheRelayPushesToTheRegistryItself() async throws {
        let registry = try await LoopbackRegistry.shared()
        let docker = try await DockerDaemon.start(bridgingPort: registry.port)
        let world = World(registry: registry, docker: docker, moto: try await MotoWorld.start(registry: registry))
        defer { world.moto.stop() }
        let temporary = TemporaryDirectory()
        let (_, repository, result) = try await Self.pushNewImage(world, to: registry.hostPort, name: "relay-unreachable", temporary: temporary)
        await docker.stop()
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("The Engine could not reach ecrpush's relay"), "\(result.stderrText)")
        #expect(result.stderrText.contains("--no-engine-relay skips the attempt"), "\(result.stderrText)")
        let named = result.combinedText.components(separatedBy: "The push refers to repository [\(registry.hostPort)/\(repository)]").count - 1
        #expect(named == 1, "the destination is named once, not again by the Engine's own push: \(result.combinedText)")
        #expect(!(try Self.engineRequests(world, repository: repository)).isEmpty, "the Engine pushed to the registry itself")
        let manifest = try await registry.manifest(repository: repository, reference: "v1")
        #expect((manifest["layers"] as? [Any])?.count == 2)
        #expect(result.stdoutText.contains("\(registry.hostPort)/\(repository)@sha256:"), "\(result.stdoutText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: temporary.path).isEmpty, "no spooled upload is left")
    }

    /// More new bytes than `auto` counts on the relay for (`EngineRelayPush.newBytesLimit`, 16 MiB), pushed through
    /// the Engine (`--transport daemon`): through the relay all the same, the layer sent on as the Engine compresses
    /// it, and the Engine never holds the registry's password nor keeps a name for it.
    @Test func aBigNewLayerGoesThroughTheRelayAsItArrives() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await EngineTagsAheadTests.taggedImage(world, megabytes: 17, ownLayer: true)
        let repository = BuildAndPushTests.uniqueName("relay-big")
        let recording = try EngineTagsAheadTests.recordTagEvents(world, image.id)
        let result = try await ECRPushCLI.run(
            [
                "push", image.tag, "--repository", repository, "--tag", "v1", "--create-repository", "--transport", "daemon",
                "--registry", world.registry.hostPort
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(try Self.engineRequests(world, repository: repository).isEmpty)
        let accessLog = try String(contentsOfFile: world.registry.directory + "/registry.log", encoding: .utf8)
        let ours = accessLog.split(separator: "\n").filter { $0.contains("/v2/\(repository)/") && $0.contains("HTTP/1.1\"") }
        #expect(ours.contains { $0.contains("\"PATCH /v2/\(repository)/blobs/uploads/") }, "\(ours.joined(separator: "\n"))")
        let events = await EngineTagsAheadTests.tagEvents(recording)
        #expect(events.first?.hasPrefix("tag 127.0.0.1:") == true, "\(events)")
        #expect(try await Self.inspect(world, image.id, "RepoTags") == [image.tag], "the relay's name is gone, and no other was given")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1", command: ["sh", "-c", "wc -c < /layer"])
        #expect(run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(17 << 20)", "\(run.combinedText)")
    }

    /// `ecr-api` (no registry password anywhere): once the base's layers are in the repository (copied there through
    /// ECR's API), the 1 MiB past them goes through the relay into ECR's layer upload, not through an export of the
    /// whole image; so do 17 MiB (past the 16 MiB counted on) on a base of 64 MiB, which the export would read out too.
    @Test(arguments: zip([4, 64], [1, 17]))
    func ecrAPIPushesNewBytesThroughTheRelayWhereTheyAreFewOrTheBaseFarBigger(baseMegabytes: Int, newMegabytes: Int) async throws {
        let world = try await ECRAPITransportTests.start()
        defer { world.moto.stop() }
        let baseRepository = BuildAndPushTests.uniqueName("relay-api-base")
        let baseName = try await ECRAPITransportTests.pushAndPullBase(world, repository: baseRepository, megabytes: baseMegabytes, withDocker: true)
        let app = "\(BuildAndPushTests.uniqueName("relay-api-app")):1"
        _ = try await AutoTransportTests.build(world, from: baseName, megabytes: newMegabytes, tag: app)
        let repository = BuildAndPushTests.uniqueName("relay-api")
        let result = try await ECRPushCLI.run(
            [
                "push", app, "--repository", repository, "--tag", "v1", "--create-repository", "--transport", "ecr-api",
                "--registry", world.registry.hostPort
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("through ecrpush's relay"), "\(result.stderrText)")
        let baseDigests = try await AutoTransportTests.layerDigests(world, repository: baseRepository, reference: "base")
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
        #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests)
        #expect((try Self.engineRequests(world, repository: repository)).isEmpty)
        // The base's layers copied into the repository (ECR's API has no mount) are named as the Engine names them.
        let copied = Self.lineIDs(result.combinedText, endingWith: ": Copied from \(baseRepository)")
        let engineIDs = try await Self.engineLayerIDs(world.docker, app)
        #expect(!copied.isEmpty && copied.isSubset(of: engineIDs), "\(copied) against the Engine's \(engineIDs): \(result.combinedText)")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
    }

    /// The base's layers mounted for the Engine's push through the relay are named as the Engine names the image's
    /// layers (by diffID): each "Mounted from" line is about one of the Engine's layers, not a second name for it.
    @Test func theBasesMountsAreNamedAsTheEngineNamesItsLayers() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let (baseRepository, baseName) = try await AutoTransportTests.pushedBase(world, prefix: "relay-ids-base", megabytes: 2)
        let app = "\(BuildAndPushTests.uniqueName("relay-ids-app")):1"
        _ = try await AutoTransportTests.build(world, from: baseName, megabytes: 1, tag: app)
        let repository = BuildAndPushTests.uniqueName("relay-ids")
        let result = try await ECRPushCLI.run(
            ["push", app, "--repository", repository, "--tag", "v1", "--create-repository", "--registry", world.registry.hostPort],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: daemon"), "\(result.stderrText)")
        let engineIDs = try await Self.engineLayerIDs(world.docker, app)
        let mounted = Self.lineIDs(result.combinedText, endingWith: ": Mounted from \(baseRepository)")
        #expect(!mounted.isEmpty, "\(result.combinedText)")
        #expect(mounted.isSubset(of: engineIDs), "\(mounted) against the Engine's \(engineIDs): \(result.combinedText)")
    }

    /// The Engine's names for `image`'s layers in its push's progress: the first 12 hex digits of each diffID.
    static func engineLayerIDs(_ docker: DockerDaemon, _ image: String) async throws -> Set<String> {
        let inspected = try await docker.docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", image])
        let diffIDs = try JSONDecoder().decode([String].self, from: Data(inspected.stdoutText.utf8))
        return Set(diffIDs.map { String($0.dropFirst("sha256:".count).prefix(12)) })
    }

    /// The IDs of progress lines (`ID: status`) whose status ends with `suffix`.
    static func lineIDs(_ text: String, endingWith suffix: String) -> Set<String> {
        Set(text.split(separator: "\n").filter { $0.hasSuffix(suffix) }.map { String($0.prefix { $0 != ":" }) })
    }

    /// `--no-engine-relay`: the Engine pushes to the registry itself (docker's own user agent in the log).
    @Test func withoutTheRelayTheEnginePushesItself() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await EngineTagsAheadTests.taggedImage(world)
        let repository = BuildAndPushTests.uniqueName("relay-off")
        let result = try await ECRPushCLI.run(
            [
                "push", image.tag, "--repository", repository, "--tag", "v1", "--create-repository", "--transport", "daemon",
                "--registry", world.registry.hostPort, "--no-engine-relay"
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(!(try Self.engineRequests(world, repository: repository)).isEmpty)
    }
}
