import Foundation
import TestWorld
import Testing

/// `push` tags the image for the Engine while its login is made (`EngineTagsAhead`). The Engine must end as it did
/// before: the tag stays after the Engine's push, and nothing else leaves one. The Engine's event log shows that
/// the tag was made ahead and taken back. Tags are made ahead only where the Engine would push to the registry
/// itself, so these tests pass `--no-engine-relay` (`EngineRelayTests` has the relay's push).
@Suite struct EngineTagsAheadTests {
    typealias World = BuildAndPushTests.World

    /// A tagged image of its own (a label no other test's image has); with `ownLayer`, its layer too, where the
    /// build cache would otherwise give the same one to every image of that size (one that a registry then holds).
    static func taggedImage(_ world: World, megabytes: Int = 0, ownLayer: Bool = false) async throws -> (id: String, tag: String) {
        let tag = "\(BuildAndPushTests.uniqueName("tags-ahead")):src"
        let context = TemporaryDirectory()
        try """
        FROM \(DockerDaemon.baseImage)
        RUN head -c \(megabytes << 20) /dev/urandom > /layer\(ownLayer ? " # \(tag)" : "")
        LABEL ecrpush.test="\(tag)"
        """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let build = try await world.docker.docker(["build", "-q", "-t", tag, context.path])
        let id = build.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard build.status == 0, id.hasPrefix("sha256:") else {
            throw WorldError.commandFailed(command: "docker build", status: build.status, output: build.combinedText)
        }
        return (id, tag)
    }

    static func repoTags(_ world: World, _ id: String) async throws -> Set<String> {
        let inspect = try await world.docker.docker(["image", "inspect", "--format", "{{json .RepoTags}}", id])
        try #require(inspect.status == 0, "\(inspect.combinedText)")
        return Set(try JSONDecoder().decode([String].self, from: inspect.stdout))
    }

    /// Records the Engine's `tag` and `untag` events for the image from now on; `tagEvents` gives them as
    /// "tag NAME" and "untag".
    static func recordTagEvents(_ world: World, _ id: String) throws -> DockerEventRecording {
        try world.docker.recordEvents(filters: ["type=image", "image=\(id)"], format: "{{.Action}} {{.Actor.Attributes.name}}")
    }

    static func tagEvents(_ recording: DockerEventRecording) async -> [String] {
        await recording.stop().map { $0.hasPrefix("untag") ? "untag" : $0 }.filter { $0.hasPrefix("tag ") || $0 == "untag" }
    }

    @Test(arguments: [true, false])
    func aMissingRepositoryLeavesNoTag(namingTheRegistry: Bool) async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await Self.taggedImage(world)
        let repository = BuildAndPushTests.uniqueName("tags-ahead-missing")
        let recording = try Self.recordTagEvents(world, image.id)
        let registry = namingTheRegistry ? ["--registry", world.registry.hostPort] : []
        let result = try await ECRPushCLI.run(
            ["push", image.tag, "--repository", repository, "--tag", "v1", "--no-engine-relay"] + registry, environment: world.environment)
        #expect(result.status != 0)
        #expect(result.stderrText.contains("--create-repository"), "\(result.stderrText)")

        #expect(try await Self.repoTags(world, image.id) == [image.tag])
        let reference = "\(world.registry.hostPort)/\(repository):v1"
        let events = await Self.tagEvents(recording)
        #expect(events == ["tag \(reference)", "untag"], "\(events)")
    }

    /// Without the relay (`--no-engine-relay`): the Engine's push to the registry needs its tags, and keeps them.
    @Test func theEnginesPushKeepsItsTagAndTagsOnce() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await Self.taggedImage(world)
        let repository = BuildAndPushTests.uniqueName("tags-ahead-daemon")
        let recording = try Self.recordTagEvents(world, image.id)
        let result = try await ECRPushCLI.run(
            [
                "push", image.tag, "--repository", repository, "--tag", "v1", "--tag", "v2", "--create-repository", "--transport", "daemon",
                "--registry", world.registry.hostPort, "--no-engine-relay"
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")

        let location = "\(world.registry.hostPort)/\(repository)"
        #expect(try await Self.repoTags(world, image.id) == [image.tag, "\(location):v1", "\(location):v2"])
        let events = await Self.tagEvents(recording)
        #expect(events == ["tag \(location):v1", "tag \(location):v2"], "\(events)")
        for tag in ["v1", "v2"] {
            let manifest = try await world.registry.manifest(repository: repository, reference: tag)
            #expect(manifest["layers"] != nil)
        }
    }

    /// `auto` choosing ecrpush's own push: the tag made ahead goes again. `--no-base-layers` makes the choice
    /// certain: another test's push of the daemon's base image (`LoginAheadTests`) gives this image an ancestor in
    /// the registry, and then, on a loaded machine, the estimate may tie and `auto` take the Engine's push.
    @Test func ecrpushsOwnPushLeavesNoTag() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let image = try await Self.taggedImage(world, megabytes: 8)
        let repository = BuildAndPushTests.uniqueName("tags-ahead-registry")
        let recording = try Self.recordTagEvents(world, image.id)
        let result = try await ECRPushCLI.run(
            [
                "push", image.tag, "--repository", repository, "--tag", "v1", "--create-repository", "--registry", world.registry.hostPort,
                "--no-base-layers", "--no-engine-relay"
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("Transport auto: registry"), "\(result.stderrText)")

        #expect(try await Self.repoTags(world, image.id) == [image.tag])
        let reference = "\(world.registry.hostPort)/\(repository):v1"
        let events = await Self.tagEvents(recording)
        #expect(events == ["tag \(reference)", "untag"], "\(events)")
    }
}
