import Foundation
import TestWorld
import Testing

/// `--registry` and `--repository` repeated: one read of the image, uploaded to every registry (mounted between the
/// repositories of one registry), one digest everywhere; a destination that fails does not hide the others' results,
/// and the exit code says so.
@Suite struct FanOutPushTests {
    typealias World = BuildAndPushTests.World

    /// The base's copy into the second registry is waited for whatever it takes: on a loaded machine a debug
    /// build's copy can outlast the 1 s probe, and auto then rightly reads the image beside it instead.
    static let patientProbe = ["ECRPUSH_COPY_PROBE_SECONDS": "120"]

    @Test func oneImageToTwoRegistriesTimesTwoRepositoriesAndAFailingThird() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        // A second registry that takes the same ECR token (as two regions' registries take theirs).
        let second = try await LoopbackRegistry.start(password: world.registry.password)
        let image = try await AutoTransportTests.build(world, from: DockerDaemon.baseImage, megabytes: 3)
        let repository = BuildAndPushTests.uniqueName("fan")
        let other = repository + "-b"

        // Every registry × every repository: destinations 1 and 2 in the first registry, 3 and 4 in the second.
        let result = try await ECRPushCLI.run(
            [
                "push", image, "--repository", repository, "--repository", other, "--tag", "v1", "--create-repository", "--no-blob-cache",
                "--registry", world.registry.hostPort, "--registry", second.hostPort, "--output", "json"
            ], environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: registry (ecrpush reads and compresses the image once for all"), "\(result.stderrText)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any])
        let images = try #require(json["images"] as? [[String: Any]])
        let digest = try #require(json["digest"] as? String)
        let places = [world.registry.hostPort, second.hostPort].flatMap { registry in [repository, other].map { "\(registry)/\($0)" } }
        #expect(images.compactMap { $0["imageUri"] as? String }.sorted() == places.map { "\($0)@\(digest)" }.sorted())
        #expect((json["failures"] as? [Any])?.isEmpty == true)
        let counts = try await world.moto.counts()
        #expect(counts["GetAuthorizationToken"] == 2, "one login per registry, not per repository: \(counts)")
        #expect(result.stderrText.components(separatedBy: "Reading \(image)").count == 2, "the image is read once: \(result.stderrText)")
        // Within a registry, each blob is uploaded to the first repository and mounted into the second.
        for number in [2, 4] {
            #expect(result.stderrText.contains("@\(number): Mounted from \(repository)"), "\(result.stderrText)")
            #expect(!result.stderrText.contains("@\(number): Pushed"), "destination \(number) uploads nothing: \(result.stderrText)")
        }
        let layers = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
        for registry in [world.registry, second] {
            for name in [repository, other] {
                for layer in layers { #expect(try await registry.blobStatus(repository: name, digest: layer) == 200) }
                #expect(try await registry.manifestStatus(repository: name, reference: "v1") == 200)
            }
        }
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(other):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")

        // A third destination that refuses connections: the other two are pushed, the failure is said, exit 1.
        let again = try await ECRPushCLI.run(
            [
                "push", image, "--repository", repository, "--tag", "v2", "--no-blob-cache", "--retry-timeout", "0", "--registry",
                world.registry.hostPort, "--registry", "127.0.0.1:9", "--registry", second.hostPort
            ], environment: world.environment)
        #expect(again.status == 1, "\(again.combinedText)")
        #expect(again.stdoutText.contains("\(world.registry.hostPort)/\(repository):v2"), "\(again.stdoutText)")
        #expect(again.stdoutText.contains("\(second.hostPort)/\(repository):v2"))
        #expect(
            again.stderrText.contains("127.0.0.1:9/\(repository)") && again.stderrText.contains("2 of 3 destinations have the image"),
            "\(again.stderrText)")
        #expect(try await second.manifestStatus(repository: repository, reference: "v2") == 200)

        let daemon = try await ECRPushCLI.run(
            ["push", image, "--repository", repository, "--transport", "daemon", "--registry", "a.example", "--registry", "b.example"],
            environment: world.environment)
        #expect(daemon.status == 64 && daemon.stderrText.contains("several --registry"), "\(daemon.combinedText)")
        await second.stop()
    }

    /// The everyday push to two regions: a 1 MiB layer on a base in the first registry. auto gets the base into the
    /// second registry (copied from the first with its destination's login), the Engine pushes to the first
    /// destination, and that image is copied from there into the others (mounted within a registry): nothing is
    /// exported, every destination has one manifest, and it names the base's own blobs.
    @Test func aSmallLayerOnABaseIsPushedByTheEngineOnceAndCopiedToTheOthers() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let second = try await LoopbackRegistry.start(password: world.registry.password)
        let (baseRepository, baseName) = try await AutoTransportTests.pushedBase(world, prefix: "fan-base", megabytes: 16)
        let app = try await AutoTransportTests.build(world, from: baseName, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("fan-engine")
        let other = repository + "-b"

        let result = try await ECRPushCLI.run(
            [
                "push", app, "--repository", repository, "--repository", other, "--tag", "v1", "--tag", "latest", "--create-repository",
                "--no-blob-cache", "--registry", world.registry.hostPort, "--registry", second.hostPort, "--output", "json"
            ], environment: world.environment.merging(Self.patientProbe) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(
            result.stderrText.contains("Transport auto: daemon (the Engine's push to the first destination, its image copied from there"),
            "\(result.stderrText)")
        #expect(result.stderrText.contains("held by every destination"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("Reading \(app) from the Docker Engine"), "nothing exported: \(result.stderrText)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any])
        let digest = try #require(json["digest"] as? String)
        let images = try #require(json["images"] as? [[String: Any]])
        let places = [world.registry.hostPort, second.hostPort].flatMap { registry in [repository, other].map { "\(registry)/\($0)" } }
        #expect(images.compactMap { $0["imageUri"] as? String }.sorted() == places.map { "\($0)@\(digest)" }.sorted())
        #expect((json["failures"] as? [Any])?.isEmpty == true)

        let baseDigests = try await AutoTransportTests.layerDigests(world, repository: baseRepository, reference: "1")
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
        #expect(appDigests.count == baseDigests.count + 1 && Array(appDigests.prefix(baseDigests.count)) == baseDigests)
        let bytes = try await world.registry.manifestBytes(repository: repository, reference: "v1")
        #expect(try await sha256Digest(bytes) == digest, "the Engine's manifest, as it pushed it")
        for registry in [world.registry, second] {
            for name in [repository, other] {
                for tag in ["v1", "latest"] {
                    #expect(try await registry.manifestBytes(repository: name, reference: tag) == bytes, "\(registry.hostPort)/\(name):\(tag)")
                }
                for layer in appDigests { #expect(try await registry.blobStatus(repository: name, digest: layer) == 200) }
            }
        }
        // The app's new blobs: mounted from the first destination within its registry (2), copied from it into the
        // other registry (3), and mounted there from that copy (4).
        for line in ["@2: Mounted from \(repository)", "@3: Copied from \(world.registry.hostPort)/\(repository)", "@4: Mounted from \(repository)"] {
            #expect(result.stderrText.contains(line), "\(line): \(result.stderrText)")
        }
        #expect(!result.stderrText.contains("@3: Pushed") && !result.stderrText.contains("@4: Pushed"), "\(result.stderrText)")
        let run = try await World(registry: second, docker: world.docker, moto: world.moto).pullAndRun("\(second.hostPort)/\(other):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
        await second.stop()
    }

    /// The Engine's push to the first destination fails (its uploads, chunked PATCHes, are refused by a proxy that lets
    /// ecrpush's through): the failure is said and ecrpush's own push takes every destination, one digest for all.
    @Test func aFailedEnginePushIsTakenOverByEcrpushsPush() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        let (baseRepository, baseName) = try await AutoTransportTests.pushedBase(world, prefix: "fan-fallback-base", megabytes: 16)
        let app = try await AutoTransportTests.build(world, from: baseName, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("fan-fallback")
        let denied = #"{"errors":[{"code":"DENIED","message":"uploads from the Engine are refused here"}]}"#
        try await proxy.setRules([["method": "PATCH", "chunked": true, "status": 403, "body": denied, "times": -1]])

        let result = try await ECRPushCLI.run(
            [
                "push", app, "--repository", repository, "--tag", "v1", "--create-repository", "--no-blob-cache", "--registry", proxy.hostPort,
                "--registry", world.registry.hostPort, "--output", "json"
            ], environment: world.environment.merging(Self.patientProbe) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: daemon"), "\(result.stderrText)")
        #expect(
            result.stderrText.contains("The Engine's push to \(proxy.hostPort)/\(repository) failed")
                && result.stderrText.contains("ecrpush's push to every destination instead"), "\(result.stderrText)")
        #expect(result.stderrText.contains("Reading \(app) from the Docker Engine"), "\(result.stderrText)")
        #expect(result.stderrText.components(separatedBy: "Destination 1: ").count == 2, "listed once: \(result.stderrText)")
        let patches = try await proxy.seen().filter { $0.method == "PATCH" }
        #expect(patches.contains { $0.chunked == true && $0.status == .code(403) }, "the Engine's upload was refused: \(patches)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdoutText.utf8)) as? [String: Any])
        let digest = try #require(json["digest"] as? String)
        #expect((json["images"] as? [[String: Any]])?.compactMap { $0["imageUri"] as? String }.count == 2)
        #expect((json["failures"] as? [Any])?.isEmpty == true)
        let bytes = try await world.registry.manifestBytes(repository: repository, reference: "v1")
        #expect(try await sha256Digest(bytes) == digest)
        let baseDigests = try await AutoTransportTests.layerDigests(world, repository: baseRepository, reference: "1")
        let appDigests = try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1")
        #expect(Array(appDigests.prefix(baseDigests.count)) == baseDigests, "the base's own blobs still")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")
    }
}
