import Foundation
import TestWorld
import Testing

/// `push` asks the Engine about its image while its command line is read (the image, its history, the local images
/// its base is found among), and its own reads take those answers: the Engine, behind a proxy that logs each
/// request, gets the same reads as from a push that starts nothing ahead, no more.
@Suite struct EngineAheadTests {
    typealias World = BuildAndPushTests.World

    struct Reads: Equatable {
        var counts: [String: Int]
        /// The connections the image's inspection came over.
        var inspections: Set<Int>
        /// The connections of the requests that change something (tag, push, remove).
        var changes: Set<Int>
    }

    static func push(_ world: World, ahead: Bool) async throws -> Reads {
        let proxy = try await FaultProxy.start(for: world.docker)
        defer { proxy.stop() }
        let environment = world.environment.merging(
            ["DOCKER_HOST": "tcp://\(proxy.hostPort)", "ECRPUSH_LOGIN_AHEAD": ahead ? "1" : "0"]) { $1 }
        let result = try await ECRPushCLI.run(
            ["push", DockerDaemon.baseImage, "--repository", BuildAndPushTests.uniqueName("engine-ahead"), "--tag", "v1", "--create-repository"],
            environment: environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let seen = try await proxy.seen()
        var counts: [String: Int] = [:]
        for read in ["/_ping", "/images/\(DockerDaemon.baseImage)/json", "/images/json", "/images/\(DockerDaemon.baseImage)/history"] {
            counts[read] = seen.filter { $0.method == "GET" && ($0.path.hasSuffix(read) || $0.path.contains(read + "?")) }.count
        }
        let inspections = seen.filter { $0.method == "GET" && $0.path.hasSuffix("/images/\(DockerDaemon.baseImage)/json") }
        return Reads(
            counts: counts, inspections: Set(inspections.compactMap(\.connection)),
            changes: Set(seen.filter { $0.method != "GET" }.compactMap(\.connection)))
    }

    @Test func eachReadReachesTheEngineAsOftenAsWithoutReadingAhead() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let ahead = try await Self.push(world, ahead: true)
        let without = try await Self.push(world, ahead: false)
        #expect(ahead.counts == without.counts)
        #expect(ahead.counts["/images/\(DockerDaemon.baseImage)/json", default: 0] >= 1, "\(ahead.counts)")
        #expect(ahead.counts["/images/json", default: 0] >= 1, "\(ahead.counts)")
        // Read ahead by a client of its own, whose connection carries none of the push's own requests.
        #expect(!ahead.inspections.isEmpty && ahead.inspections.isDisjoint(with: ahead.changes), "\(ahead)")
    }

    // MARK: - The relay's name, made ahead

    /// Records the names the Engine gives images from now on (its `tag` events), from a `docker events` started
    /// before the push: the Engine keeps only its last 256 events, which the other tests' pushes overrun on a loaded
    /// run before a read `--since` the push's start comes.
    static func recordTags(_ world: World) throws -> DockerEventRecording {
        try world.docker.recordEvents(filters: ["type=image", "event=tag"], format: "{{.Actor.Attributes.name}}")
    }

    /// The names for a relay to `repository` (`127.0.0.1:<port>/<repository>:…`) among the recorded ones.
    static func relayNames(_ recording: DockerEventRecording, repository: String) async -> [String] {
        await recording.stop().filter { $0.hasPrefix("127.0.0.1:") && $0.contains("/\(repository):") }
    }

    /// The image's names for a relay to `repository` (`127.0.0.1:<port>/<repository>:…`) it has now (other tests
    /// push the same base image at the same time, through relays of their own).
    static func relayNamesLeft(_ world: World, _ image: String, repository: String) async throws -> [String] {
        let inspected = try await world.docker.docker(["image", "inspect", image, "--format", "{{json .RepoTags}}"])
        try #require(inspected.status == 0, "\(inspected.combinedText)")
        return try JSONDecoder().decode([String].self, from: Data(inspected.stdoutText.utf8)).filter {
            $0.hasPrefix("127.0.0.1:") && $0.contains("/\(repository):")
        }
    }

    /// A command line refused after the image was named for the relay ahead (the name is made while it is read):
    /// the name is made once and removed before the process exits with 64.
    @Test func aRefusedCommandLineLeavesNoRelayNameBehind() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = "name-ahead-\(UInt32.random(in: 0...UInt32.max)):v1"
        _ = try await world.docker.docker(["tag", DockerDaemon.baseImage, image])
        let repository = BuildAndPushTests.uniqueName("name-ahead")
        let tags = try Self.recordTags(world)
        let result = try await ECRPushCLI.run(
            ["push", image, "--repository", repository, "--tag", "v1", "--image-tag-mutability", "SOMETIMES"], environment: world.environment)
        #expect(result.status == 64, "\(result.combinedText)")
        #expect(result.stderrText.contains("MUTABLE or IMMUTABLE"), "\(result.stderrText)")
        let made = await Self.relayNames(tags, repository: repository)
        #expect(made.count == 1, "named ahead, while the command line was read: \(made)")
        #expect(try await Self.relayNamesLeft(world, image, repository: repository).isEmpty)
    }

    /// A push through the relay takes the name made ahead (the Engine tags the image for the relay once) and removes
    /// it with its own; a push through ECR's API that leaves the relay out (all its layers new) removes it unused.
    @Test(arguments: ["auto", "ecr-api"])
    func aPushTagsTheRelaysNameOnceAndLeavesNoneBehind(transport: String) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = "name-ahead-\(UInt32.random(in: 0...UInt32.max)):v1"
        if transport == "auto" {
            let (_, base) = try await AutoTransportTests.pushedBase(world, prefix: "name-ahead-base", megabytes: 2)
            _ = try await AutoTransportTests.build(world, from: base, megabytes: 1, tag: image)
        } else {
            _ = try await world.docker.docker(["tag", try await AutoTransportTests.buildCold(world, megabytes: 17), image])
        }
        let repository = BuildAndPushTests.uniqueName("name-ahead")
        let tags = try Self.recordTags(world)
        let result = try await ECRPushCLI.run(
            ["push", image, "--repository", repository, "--tag", "v1", "--create-repository", "--transport", transport]
                + (transport == "ecr-api" ? ["--registry", world.registry.hostPort] : []),
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        if transport == "auto" { #expect(result.stderrText.contains("Transport auto: daemon"), "\(result.stderrText)") }
        let made = await Self.relayNames(tags, repository: repository)
        #expect(made.count == 1, "\(made)")
        #expect(try await Self.relayNamesLeft(world, image, repository: repository).isEmpty)
        if transport == "auto" {
            let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
            #expect(run.status == 0, "\(run.combinedText)")
        } else {
            // A cold image has nothing to run: its manifest is there.
            #expect(try await AutoTransportTests.layerDigests(world, repository: repository, reference: "v1").count == 1)
        }
    }
}
