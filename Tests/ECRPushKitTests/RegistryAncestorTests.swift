import DockerEngine
import Foundation
import TestWorld
import Testing

@testable import ECRPushKit

/// The ancestor look-up on an Engine that holds many images pushed after the base (a developer's laptop): only
/// images with an ancestor's size are inspected, so the base is found however many others came later.
@Suite struct RegistryAncestorTests {
    /// Builds `FROM base` plus `kilobytes` of random bytes, tagged `tag`.
    static func build(_ daemon: DockerDaemon, from base: String, kilobytes: Int, tag: String) async throws {
        let context = TemporaryDirectory()
        try "FROM \(base)\nRUN head -c \(kilobytes << 10) /dev/urandom > /layer-\(UInt32.random(in: 0...UInt32.max))\n"
            .write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let build = try await daemon.docker(["build", "-q", "-t", tag, context.path])
        try #require(build.status == 0, "\(build.combinedText)")
    }

    /// `docker push` through the Engine, logged in through stdin: the image gets a RepoDigest.
    static func push(_ daemon: DockerDaemon, _ reference: String, to registry: LoopbackRegistry) async throws {
        let config = TemporaryDirectory()
        let login = try await daemon.docker(
            ["--config", config.path, "login", "--username", registry.username, "--password-stdin", registry.hostPort],
            stdin: Data(registry.password.utf8))
        try #require(login.status == 0, "\(login.combinedText)")
        let push = try await daemon.docker(["--config", config.path, "push", reference])
        try #require(push.status == 0, "\(push.combinedText)")
    }

    @Test func theBaseIsFoundAmongImagesPushedAfterIt() async throws {
        let registry = try await LoopbackRegistry.shared()
        let daemon = try await DockerDaemon.shared()
        let docker = DockerClient(socketPath: daemon.socketPath)
        let name = "ancestor-\(UInt32.random(in: 0...UInt32.max))"
        let base = "\(registry.hostPort)/\(name)-base:1"
        try await Self.build(daemon, from: DockerDaemon.baseImage, kilobytes: 96, tag: base)
        try await Self.push(daemon, base, to: registry)
        let app = "\(name)-app:1"
        try await Self.build(daemon, from: base, kilobytes: 8, tag: app)
        // Three images pushed after the base, each newer than it in the Engine's list.
        for decoy in 1...3 {
            let reference = "\(registry.hostPort)/\(name)-decoy\(decoy):1"
            try await Self.build(daemon, from: DockerDaemon.baseImage, kilobytes: 20 * decoy + 5, tag: reference)
            try await Self.push(daemon, reference, to: registry)
        }
        let image = try #require(try await docker.inspectImage(app))
        // Two candidates at most: the newest two images with a registry digest are decoys (or other tests' images).
        let ancestor = try await RegistryAncestor.find(for: image, docker: docker, limit: 2)
        #expect(ancestor?.location.repository == "\(name)-base", "\(String(describing: ancestor))")
        #expect(ancestor?.layerCount == image.rootFS.layers.count - 1)
        let candidates = try await RegistryAncestor.gather(docker: docker, for: app, limit: 2)
        #expect(candidates.images.contains { $0.summary.repoDigests.contains { $0.contains("\(name)-base@") } })
        #expect(!candidates.images.contains { $0.summary.repoDigests.contains { $0.contains("\(name)-decoy") } }, "decoys are not inspected")
    }
}
