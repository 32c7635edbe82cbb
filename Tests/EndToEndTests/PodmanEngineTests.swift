import Foundation
import TestWorld
import Testing

/// ecrpush against podman's Docker-compatible API instead of dockerd: buildah builds the modern Dockerfile syntax
/// itself from the classic build request (BuildKit is not offered), and the image is read through the compat
/// export, pushed, pulled back by docker and run. `auto` lets podman push (its compat push needs `tlsVerify=false`
/// for the plain-HTTP loopback registry); `registry` reads the image through the compat export and image list.
@Suite struct PodmanEngineTests {
    @Test(arguments: ["auto", "registry"]) func buildAndPushThroughPodman(transport: String) async throws {
        let world = try await BuildAndPushTests.World.start()
        defer { world.moto.stop() }
        let podman = try await PodmanService.start()
        let context = TemporaryDirectory()
        try """
        FROM busybox:local
        RUN --mount=type=cache,target=/cache echo cached > /cache/note && echo "built by podman" > /greeting
        CMD ["cat", "/greeting"]
        """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let repository = BuildAndPushTests.uniqueName("podman")
        var environment = world.environment
        environment["DOCKER_HOST"] = podman.host
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--create-repository", "--network", "none", "--transport",
                transport
            ],
            environment: environment)
        await podman.stop()
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(!result.stderrText.contains("moby.buildkit"), "podman is asked for a classic build")
        #expect(result.stderrText.contains("STEP 2/3"), "buildah's own progress is shown: \(result.stderrText)")
        let digestLine = try #require(result.stdoutText.split(separator: "\n").last.map(String.init))
        let run = try await world.pullAndRun(digestLine)
        #expect(run.status == 0, "\(run.combinedText)")
        #expect(run.stdoutText == "built by podman\n")
    }
}
