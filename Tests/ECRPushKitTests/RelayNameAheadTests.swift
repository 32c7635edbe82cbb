import DockerEngine
import Foundation
import ImageExport
import TestWorld
import Testing

@testable import ECRPushKit

/// The image's name for the relay, made ahead on the loopback dockerd (`RelayNameAhead`): the push takes it when it
/// is the name it needs, and any other is removed by `undo`, waiting for the Engine if it is still tagging.
@Suite struct RelayNameAheadTests {
    /// The base image under a name of its own (a tagged name, as `push app:v4` gives), removed by the caller.
    static func source(_ docker: DockerClient) async throws -> String {
        let repository = "relay-name-\(UInt32.random(in: 0...UInt32.max))"
        try await docker.tag(source: DockerDaemon.baseImage, repository: repository, tag: "v1")
        return "\(repository):v1"
    }

    /// The image's names for a relay on `port` (each test its own: they name the same base image at once).
    static func relayNames(_ docker: DockerClient, _ source: String, port: Int) async throws -> [String] {
        try await docker.requireImage(source).repoTags.filter { $0.hasPrefix("127.0.0.1:\(port)/") }
    }

    /// The repository part of the relay's name on `port` for `team/app`: it carries this process as its maker.
    static func relayRepository(port: Int) -> String { RelayNames.relayRepository(host: "127.0.0.1:\(port)", repository: "team/app") }

    @Test func theRelaysNameCarriesThisProcessAsItsMaker() throws {
        let owner = try #require(ProcessOwner.current)
        let repository = Self.relayRepository(port: 40120)
        #expect(repository == "127.0.0.1:40120/ecrpush-relay.\(owner.nameComponent)/team/app")
        #expect(RelayNames.owner(ofRelayName: repository + ":v2") == owner)
        #expect(RelayNames.owner(ofRelayName: repository + "@sha256:" + String(repeating: "a", count: 64)) == owner)
        // A user's own loopback registry, another host, a name too long to mark: no maker.
        #expect(RelayNames.owner(ofRelayName: "127.0.0.1:5000/team/app:v2") == nil)
        #expect(RelayNames.owner(ofRelayName: "registry.example/ecrpush-relay.\(owner.nameComponent)/team/app:v2") == nil)
        #expect(RelayNames.owner(ofRelayName: "127.0.0.1:5000/ecrpush-relay.12-34/team/app:v2") == nil)
        let long = String(repeating: "a", count: 230)
        #expect(RelayNames.relayRepository(host: "127.0.0.1:40120", repository: long) == "127.0.0.1:40120/\(long)")
    }

    @Test func thePushTakesTheNameMadeAheadAndUndoLeavesItToThePush() async throws {
        let docker = DockerClient(socketPath: try await DockerDaemon.shared().socketPath)
        let source = try await Self.source(docker)
        defer { Task { try? await docker.removeImage(source) } }
        let ahead = RelayNameAhead()
        ahead.start(docker: docker, source: source, repository: "team/app", tag: "v2") { 40123 }

        // Another tag, another port or another source: not this name.
        #expect(await !ahead.take(source: source, repository: Self.relayRepository(port: 40123), tag: "v3"))
        #expect(await !ahead.take(source: source, repository: Self.relayRepository(port: 40124), tag: "v2"))
        #expect(await !ahead.take(source: "other:v1", repository: Self.relayRepository(port: 40123), tag: "v2"))
        #expect(await !ahead.take(source: "sha256:" + String(repeating: "0", count: 64), repository: Self.relayRepository(port: 40123), tag: "v2"))
        // The image's ID (as a push that has described the image names it) is its source too.
        let id = try await docker.requireImage(source).id
        #expect(await ahead.take(source: id, repository: Self.relayRepository(port: 40123), tag: "v2"))
        #expect(await !ahead.take(source: source, repository: Self.relayRepository(port: 40123), tag: "v2"), "taken once")
        #expect(try await Self.relayNames(docker, source, port: 40123) == [Self.relayRepository(port: 40123) + ":v2"])

        // Taken: the push removes it with its relay's names, not `undo`.
        await ahead.undo()
        #expect(try await Self.relayNames(docker, source, port: 40123) == [Self.relayRepository(port: 40123) + ":v2"])
        try await docker.removeImage(Self.relayRepository(port: 40123) + ":v2")
    }

    @Test func aNameNobodyTookIsRemovedOnceTheEngineMadeIt() async throws {
        let docker = DockerClient(socketPath: try await DockerDaemon.shared().socketPath)
        let source = try await Self.source(docker)
        defer { Task { try? await docker.removeImage(source) } }
        let ahead = RelayNameAhead()
        // The port comes late, as a listener's bind may: `undo` waits for the name and then removes it.
        ahead.start(docker: docker, source: source, repository: "team/app", tag: "v2") {
            try? await Task.sleep(for: .milliseconds(200))
            return 40125
        }
        await ahead.undo()
        let names = try await Self.relayNames(docker, source, port: 40125)
        #expect(names.isEmpty, "\(names)")
        #expect(await !ahead.take(source: source, repository: Self.relayRepository(port: 40125), tag: "v2"))
    }

    @Test func noPortNoName() async throws {
        let docker = DockerClient(socketPath: try await DockerDaemon.shared().socketPath)
        let source = try await Self.source(docker)
        defer { Task { try? await docker.removeImage(source) } }
        let ahead = RelayNameAhead()
        ahead.start(docker: docker, source: source, repository: "team/app", tag: "v2") { nil }
        #expect(await !ahead.take(source: source, repository: Self.relayRepository(port: 40126), tag: "v2"))
        await ahead.undo()
        #expect(try await Self.relayNames(docker, source, port: 40126).isEmpty)
    }
}
