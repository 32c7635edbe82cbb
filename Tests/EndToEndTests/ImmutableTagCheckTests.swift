import Foundation
import TestWorld
import Testing

/// An immutable tag that already names an image is found before anything is built (or read from the Engine):
/// the build never reaches the Engine (no image with the build's label exists afterwards), and `--skip-existing`
/// turns the case into a success that prints the image already there.
@Suite struct ImmutableTagCheckTests {
    typealias World = BuildAndPushTests.World

    /// A context whose build would take a while and leave an image labelled `label`.
    static func context(label: String) throws -> TemporaryDirectory {
        let context = TemporaryDirectory()
        try "FROM \(DockerDaemon.baseImage)\nRUN echo \(label) > /built\nLABEL test=\(label)\n"
            .write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        return context
    }

    static func imagesLabelled(_ label: String, docker: DockerDaemon) async throws -> String {
        let listed = try await runProcess("docker", ["-H", docker.host, "images", "-q", "--filter", "label=test=\(label)"])
        try #require(listed.status == 0, "\(listed.combinedText)")
        return listed.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func buildAndPushStopsBeforeTheBuild() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("immutable-early")
        let registry = world.registry.hostPort
        let first = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--create-repository", "--image-tag-mutability",
                "IMMUTABLE", "--registry", registry, "--transport", "ecr-api", "--output", "json"
            ],
            environment: world.environment)
        try #require(first.status == 0, "\(first.combinedText)")
        let pushed = try #require(try JSONSerialization.jsonObject(with: first.stdout) as? [String: Any])
        let digest = try #require(pushed["digest"] as? String)

        let label = repository
        let context = try Self.context(label: label)
        let refused = try await ECRPushCLI.run(
            ["build-and-push", context.path, "--repository", repository, "--tag", "v1", "--registry", registry, "--label", "test=\(label)"],
            environment: world.environment)
        #expect(refused.status == 1, "\(refused.combinedText)")
        #expect(refused.stderrText.contains("tag 'v1' already exists"))
        #expect(refused.stderrText.contains(digest), "names the image the tag holds: \(refused.stderrText)")
        #expect(refused.stderrText.contains("--skip-existing"))
        #expect(refused.stdoutText.isEmpty)
        #expect(try await Self.imagesLabelled(label, docker: world.docker).isEmpty, "no build reached the Engine")

        // --skip-existing: a success without building, printing the image that is there (text and JSON).
        let skipped = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--registry", registry, "--label",
                "test=\(label)", "--skip-existing"
            ],
            environment: world.environment)
        #expect(skipped.status == 0, "\(skipped.combinedText)")
        #expect(skipped.stdoutText == "\(registry)/\(repository):v1\n\(registry)/\(repository)@\(digest)\n")
        #expect(skipped.stderrText.contains("--skip-existing"))
        let skippedJSON = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--registry", registry, "--label",
                "test=\(label)", "--skip-existing", "--output", "json"
            ],
            environment: world.environment)
        #expect(skippedJSON.status == 0, "\(skippedJSON.combinedText)")
        let object = try #require(try JSONSerialization.jsonObject(with: skippedJSON.stdout) as? [String: Any])
        #expect(object["digest"] as? String == digest)
        #expect(object["imageUri"] as? String == "\(registry)/\(repository)@\(digest)")
        #expect(object["alreadyPushed"] as? Bool == true)
        #expect(try await Self.imagesLabelled(label, docker: world.docker).isEmpty, "--skip-existing builds nothing")

        // --skip-existing needs every tag there: one missing tag is still an error before building, and says so.
        let partial = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--tag", "v9", "--registry", registry,
                "--label", "test=\(label)", "--skip-existing"
            ],
            environment: world.environment)
        #expect(partial.status == 1, "\(partial.combinedText)")
        #expect(partial.stderrText.contains("'v9' does not exist yet"), "\(partial.stderrText)")
        #expect(try await Self.imagesLabelled(label, docker: world.docker).isEmpty)

        // A new tag builds and pushes as usual; --scan reports the new image's scan in the JSON.
        let fresh = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "v2", "--registry", registry, "--label", "test=\(label)",
                "--transport", "ecr-api", "--scan", "--output", "json"
            ],
            environment: world.environment)
        #expect(fresh.status == 0, "\(fresh.combinedText)")
        #expect(try await !Self.imagesLabelled(label, docker: world.docker).isEmpty)
        let built = try #require(try JSONSerialization.jsonObject(with: fresh.stdout) as? [String: Any])
        let scan = try #require(built["scan"] as? [String: Any])
        #expect(scan["imageDigest"] as? String == built["digest"] as? String)
        #expect(scan["status"] as? String == "COMPLETE")
        #expect(built["alreadyPushed"] == nil)
    }

    @Test func pushOfAnotherImageStopsEarlyAndARepushPasses() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("immutable-push")
        let registry = world.registry.hostPort
        let first = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--create-repository", "--image-tag-mutability",
                "IMMUTABLE", "--registry", registry, "--transport", "ecr-api"
            ],
            environment: world.environment)
        try #require(first.status == 0, "\(first.combinedText)")

        // The same image again, through either transport: fine (its config is the one the tag's manifest names).
        for transport in ["ecr-api", "registry"] {
            let again = try await ECRPushCLI.run(
                ["push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--registry", registry, "--transport", transport],
                environment: world.environment)
            #expect(again.status == 0, "\(transport): \(again.combinedText)")
        }

        let other = try await TagCommandTests.otherImage(docker: world.docker, label: repository)
        try await world.moto.resetCounts()
        let refused = try await ECRPushCLI.run(
            ["push", other, "--repository", repository, "--tag", "v1", "--registry", registry, "--transport", "ecr-api"],
            environment: world.environment)
        #expect(refused.status == 1, "\(refused.combinedText)")
        #expect(refused.stderrText.contains("tag 'v1' already exists"))
        #expect(refused.stderrText.contains("Nothing was pushed"))
        let counts = try await world.moto.counts()
        #expect(counts["InitiateLayerUpload", default: 0] == 0 && counts["BatchCheckLayerAvailability", default: 0] == 0, "\(counts)")

        // push --skip-existing: the image there is accepted only when it is the local image.
        let otherSkipped = try await ECRPushCLI.run(
            ["push", other, "--repository", repository, "--tag", "v1", "--registry", registry, "--transport", "ecr-api", "--skip-existing"],
            environment: world.environment)
        #expect(otherSkipped.status == 1, "\(otherSkipped.combinedText)")
        #expect(otherSkipped.stderrText.contains("only when it is the one being pushed"))
        try await world.moto.resetCounts()
        let sameSkipped = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--registry", registry, "--transport", "ecr-api",
                "--skip-existing", "--output", "json"
            ],
            environment: world.environment)
        #expect(sameSkipped.status == 0, "\(sameSkipped.combinedText)")
        let object = try #require(try JSONSerialization.jsonObject(with: sameSkipped.stdout) as? [String: Any])
        #expect(object["alreadyPushed"] as? Bool == true)
        #expect(try await world.moto.counts()["PutImage", default: 0] == 0, "nothing pushed")
    }
}
