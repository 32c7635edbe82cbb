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
}
