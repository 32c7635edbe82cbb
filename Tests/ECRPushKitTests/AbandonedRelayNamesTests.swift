import DockerEngine
import Foundation
import ImageExport
import TestWorld
import Testing

@testable import ECRPushKit

/// Which relay names a push removes as abandoned (`AbandonedRelayNames`), on the loopback dockerd: only those whose
/// maker is certainly gone, in this pid namespace, and never an image's last tag. Each name is judged by real
/// processes: one that exited, this test process, another namespace's. (That a push says what it removed is
/// `InterruptedPushTests.aPushKilledOutrightLeavesTheRelaysNameAndTheNextPushRemovesIt`, on an Engine of its own.)
@Suite struct AbandonedRelayNamesTests {
    /// A process that has exited and been reaped: its pid names nobody (or, reused, someone started later).
    static func deadOwner() async throws -> ProcessOwner {
        let current = try #require(ProcessOwner.current)
        let pid = try BackgroundProcess.spawn(["/bin/true"])
        try #require(await BackgroundProcess.ending(of: pid, timeout: .seconds(30)) == .exited(0))
        return ProcessOwner(pid: pid, startTime: current.startTime, pidNamespace: current.pidNamespace)
    }

    static func relayName(_ owner: ProcessOwner, port: Int, repository: String) -> String {
        "127.0.0.1:\(port)/\(RelayNames.ownerPrefix)\(owner.nameComponent)/\(repository):v1"
    }

    @Test func onlyNamesWhoseMakerIsGoneAreRemovedAndNeverAnImagesLastTag() async throws {
        let daemon = try await DockerDaemon.shared()
        let docker = DockerClient(socketPath: daemon.socketPath)
        let current = try #require(ProcessOwner.current)
        let dead = try await Self.deadOwner()
        let unique = "abandoned-\(UInt32.random(in: 0...UInt32.max))"
        // An image with a tag of its own, and one whose only tag is a dead push's relay name.
        let kept = "\(unique)-kept:v1"
        try await RegistryAncestorTests.build(daemon, from: DockerDaemon.baseImage, kilobytes: 1, tag: kept)
        let alone = "\(unique)-alone:v1"
        try await RegistryAncestorTests.build(daemon, from: DockerDaemon.baseImage, kilobytes: 1, tag: alone)
        let (deadName, liveName, otherNamespace, usersOwn, aloneName) = (
            Self.relayName(dead, port: 40201, repository: unique), Self.relayName(current, port: 40202, repository: unique),
            Self.relayName(
                ProcessOwner(pid: dead.pid, startTime: dead.startTime, pidNamespace: dead.pidNamespace + 1), port: 40203, repository: unique),
            "127.0.0.1:40204/\(unique):v1", Self.relayName(dead, port: 40205, repository: unique)
        )
        for name in [deadName, liveName, otherNamespace, usersOwn] {
            let (repository, tag) = Self.split(name)
            try await docker.tag(source: kept, repository: repository, tag: tag)
        }
        let (aloneRepository, aloneTag) = Self.split(aloneName)
        try await docker.tag(source: alone, repository: aloneRepository, tag: aloneTag)
        try await docker.removeImage(alone)
        defer {
            Task { for name in [kept, liveName, otherNamespace, usersOwn, aloneName] { try? await docker.removeImage(name) } }
        }

        let found = await AbandonedRelayNames.remove(docker: docker).filter { $0.name.contains(unique) }
        // Every push sweeps, so a push of another test on this Engine may have removed the dead name first.
        #expect(
            found.filter { $0.name != aloneName } == []
                || found.filter { $0.name != aloneName } == [.init(name: deadName, pid: dead.pid, outcome: .removed)], "\(found)")
        #expect(found.filter { $0.name == aloneName } == [.init(name: aloneName, pid: dead.pid, outcome: .lastTag)], "\(found)")
        let keptTags = Set(try await docker.requireImage(kept).repoTags)
        #expect(keptTags == [kept, liveName, otherNamespace, usersOwn])
        #expect(try await docker.requireImage(aloneName).repoTags == [aloneName], "an image's last tag stays")
        let line = try #require(found.first { $0.outcome == .lastTag }).description
        #expect(line.contains("stays: it is the image's last tag") && line.contains("docker rmi \(aloneName)"), "\(line)")
    }

    /// `127.0.0.1:40201/ecrpush-relay.…/repo:v1` as the Engine's tag request takes it.
    static func split(_ name: String) -> (repository: String, tag: String) {
        let colon = name.lastIndex(of: ":")!
        return (String(name[..<colon]), String(name[name.index(after: colon)...]))
    }
}
