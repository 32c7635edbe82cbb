import Foundation
import TestWorld
import Testing

/// `ecrpush copy`: registry to registry without the Engine, digests kept, an index copied whole or one platform.
@Suite struct CopyCommandTests {
    typealias World = BuildAndPushTests.World

    /// A registry of its own (user `hub`) holding a two-platform manifest list at `repository:multi` (entries `amd`
    /// and `arm`, two images built here), and a docker config with logins for it and for the world's registry.
    struct Source {
        let registry: LoopbackRegistry
        let repository: String
        let config: TemporaryDirectory
        var environment: [String: String] { ["DOCKER_CONFIG": config.path] }
    }

    static let listType = "application/vnd.docker.distribution.manifest.list.v2+json"

    static func publish(_ world: World) async throws -> Source {
        let registry = try await LoopbackRegistry.start(username: "hub")
        let config = TemporaryDirectory()
        let auths = [(registry.hostPort, "hub", registry.password), (world.registry.hostPort, "AWS", world.registry.password)]
            .map { #""\#($0.0)":{"auth":"\#(Data("\($0.1):\($0.2)".utf8).base64EncodedString())"}"# }.joined(separator: ",")
        try #"{"auths":{\#(auths)}}"#.write(toFile: config.path + "/config.json", atomically: true, encoding: .utf8)
        let repository = BuildAndPushTests.uniqueName("copy-src")
        var entries: [String] = []
        for (tag, architecture) in [("arm", "arm64"), ("amd", "amd64")] {
            let name = "\(registry.hostPort)/\(repository):\(tag)"
            _ = try await AutoTransportTests.build(world, from: DockerDaemon.baseImage, megabytes: 2, tag: name)
            let push = try await runProcess("docker", ["--config", config.path, "-H", world.docker.host, "push", name])
            guard push.status == 0 else { throw WorldError.commandFailed(command: "docker push", status: push.status, output: push.combinedText) }
            let bytes = try await registry.manifestBytes(repository: repository, reference: tag)
            let digest = "sha256:" + (try await sha256(bytes))
            entries.append(
                #"{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":\#(bytes.count),"digest":"\#(digest)","platform":{"architecture":"\#(architecture)","os":"linux"}}"#
            )
        }
        let list = #"{"schemaVersion":2,"mediaType":"\#(listType)","manifests":["# + entries.joined(separator: ",") + "]}"
        try await registry.putManifest(repository: repository, reference: "multi", bytes: Data(list.utf8), mediaType: listType)
        return Source(registry: registry, repository: repository, config: config)
    }

    @Test func anIndexIsCopiedWholeByteForByte() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let source = try await Self.publish(world)
        let repository = BuildAndPushTests.uniqueName("copy-dst")
        let result = try await ECRPushCLI.run(
            ["copy", "\(source.registry.hostPort)/\(source.repository):multi", "\(world.registry.hostPort)/\(repository)"],
            environment: world.environment.merging(source.environment) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        let sourceList = try await source.registry.manifestBytes(repository: source.repository, reference: "multi")
        let copiedList = try await world.registry.manifestBytes(repository: repository, reference: "multi")
        #expect(copiedList == sourceList, "the index byte for byte, under the source's tag")
        let digest = "sha256:" + (try await sha256(sourceList))
        #expect(result.stdoutText.contains("\(world.registry.hostPort)/\(repository)@\(digest)"), "\(result.stdoutText)")
        #expect(result.stderrText.contains("Copied from \(source.registry.hostPort)/\(source.repository)"), "\(result.stderrText)")
        for tag in ["amd", "arm"] {
            let child = "sha256:" + (try await sha256(try await source.registry.manifestBytes(repository: source.repository, reference: tag)))
            #expect(try await world.registry.manifestStatus(repository: repository, reference: child) == 200, "\(tag)'s manifest by digest")
            let layers = try await AutoTransportTests.layerDigests(world, repository: repository, reference: child)
            for layer in layers { #expect(try await world.registry.blobStatus(repository: repository, digest: layer) == 200) }
        }
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):multi")
        #expect(run.stdoutText == "auto\n", "\(run.combinedText)")

        // Again: every blob is there already, nothing is copied.
        let again = try await ECRPushCLI.run(
            ["copy", "\(source.registry.hostPort)/\(source.repository):multi", "\(world.registry.hostPort)/\(repository):again"],
            environment: world.environment.merging(source.environment) { $1 })
        try #require(again.status == 0, "\(again.combinedText)")
        #expect(!again.stderrText.contains("Copied from") && again.stderrText.contains("Layer already exists"), "\(again.stderrText)")
        await source.registry.stop()
    }

    @Test func onePlatformAndAMountWithinARegistry() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let source = try await Self.publish(world)
        let repository = BuildAndPushTests.uniqueName("copy-amd")
        let amd = try await ECRPushCLI.run(
            [
                "copy", "\(source.registry.hostPort)/\(source.repository):multi", "\(source.registry.hostPort)/\(repository):v1",
                "--platform", "linux/amd64", "--output", "json"
            ], environment: world.environment.merging(source.environment) { $1 })
        try #require(amd.status == 0, "\(amd.combinedText)")
        let amdDigest = "sha256:" + (try await sha256(try await source.registry.manifestBytes(repository: source.repository, reference: "amd")))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(amd.stdoutText.utf8)) as? [String: Any])
        #expect(json["digest"] as? String == amdDigest, "the platform's own manifest, digest kept")
        #expect(amd.stderrText.contains("Mounted from \(source.repository)"), "same registry: mounted, \(amd.stderrText)")
        #expect(!amd.stderrText.contains("Copied from"))

        let missing = try await ECRPushCLI.run(
            [
                "copy", "\(source.registry.hostPort)/\(source.repository):multi", "\(source.registry.hostPort)/\(repository):s390x", "--platform",
                "linux/s390x"
            ],
            environment: world.environment.merging(source.environment) { $1 })
        #expect(
            missing.status == 1 && missing.stderrText.contains("has no linux/s390x image (it has: linux/arm64, linux/amd64)"),
            "\(missing.combinedText)")
        let bad = try await ECRPushCLI.run(["copy", "team/app:v1", "\(source.registry.hostPort)/x"], environment: [:])
        #expect(bad.status == 64 && bad.stderrText.contains("with its registry"), "\(bad.combinedText)")
        await source.registry.stop()
    }
}

/// The hex sha256 of `data`, by the system's sha256sum.
private func sha256(_ data: Data) async throws -> String {
    let result = try await runProcess("sha256sum", [], stdin: data)
    return String(result.stdoutText.prefix(64))
}
