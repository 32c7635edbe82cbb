import Foundation
import TestWorld
import Testing

@testable import DockerEngine

/// Reads made ahead against the real dockerd: the command's own client (another connection, its own version
/// negotiation) takes the early answer, once.
@Suite struct EngineReadsAheadIntegrationTests {
    @Test func theCommandsReadTakesTheAnswerReadAhead() async throws {
        let daemon = try await DockerDaemon.shared()
        let name = "reads-ahead:\(UUID().uuidString.prefix(8).lowercased())"
        let tagged = try await daemon.docker(["tag", DockerDaemon.baseImage, name])
        try #require(tagged.status == 0, "\(tagged.combinedText)")
        let store = EngineReadsAhead()
        try await EngineReadsAhead.$current.withValue(store) {
            let early = DockerClient(socketPath: daemon.socketPath)
            let inspected = try await EngineReadsAhead.$recording.withValue(true) { try await early.inspectImage(name) }
            let id = try #require(inspected?.id)
            // The ping of the version negotiation and the inspection.
            #expect(store.count == 2)
            // Gone since: only the early answer still knows the name.
            let removed = try await daemon.docker(["rmi", name])
            try #require(removed.status == 0, "\(removed.combinedText)")
            let command = DockerClient(socketPath: daemon.socketPath)
            #expect(try await command.inspectImage(name)?.id == id)
            #expect(store.count == 0)
            #expect(try await command.inspectImage(name) == nil)
        }
    }
}
