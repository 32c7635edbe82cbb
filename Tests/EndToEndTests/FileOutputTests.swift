import Foundation
import TestWorld
import Testing

/// Files ecrpush writes for the user: `$GITHUB_OUTPUT` and the docker config.
@Suite struct FileOutputTests {
    typealias World = BuildAndPushTests.World

    /// GITHUB_OUTPUT naming a file that does not exist yet is created, as `>>` would; one in a directory that does
    /// not exist fails only the outputs: the image is pushed, its references are printed, and stderr says so.
    @Test func pushCreatesGitHubOutputAndSaysWhenOnlyTheOutputsFailed() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let directory = TemporaryDirectory()
        let output = directory.path + "/github-output"
        let repository = BuildAndPushTests.uniqueName("ghout")
        // --no-base-layers: other tests push the base image through the Engine meanwhile, which would change its blobs.
        let arguments = ["push", DockerDaemon.baseImage, "--tag", "v1", "--create-repository", "--transport", "registry", "--no-base-layers", "-q"]
        let created = try await ECRPushCLI.run(
            arguments + ["--repository", repository], environment: world.environment.merging(["GITHUB_OUTPUT": output]) { $1 })
        try #require(created.status == 0, "\(created.combinedText)")
        let digestLine = try #require(created.stdoutText.split(separator: "\n").last.map(String.init))
        let digest = String(try #require(digestLine.split(separator: "@").last))
        #expect(
            try String(contentsOfFile: output, encoding: .utf8)
                == "image=\(digestLine)\ndigest=\(digest)\nregistry=\(world.registry.hostPort)\n")

        let other = BuildAndPushTests.uniqueName("ghout-missing")
        let unwritable = directory.path + "/no-such-directory/github-output"
        let failed = try await ECRPushCLI.run(
            arguments + ["--repository", other], environment: world.environment.merging(["GITHUB_OUTPUT": unwritable]) { $1 })
        #expect(failed.status == 1, "the job must not go on as if the outputs were there: \(failed.combinedText)")
        let uri = "\(world.registry.hostPort)/\(other)@\(digest)"
        #expect(failed.stdoutText == "\(world.registry.hostPort)/\(other):v1\n\(uri)\n", "the push result is still printed")
        #expect(failed.stderrText.hasPrefix("ecrpush: error: the image was pushed: \(uri)"), "\(failed.stderrText)")
        #expect(failed.stderrText.contains("Only the step outputs"), "\(failed.stderrText)")
        #expect(failed.stderrText.contains("\(unwritable): cannot open it for appending: No such file or directory"), "\(failed.stderrText)")
        let manifest = try await world.registry.manifest(repository: other, reference: "v1")
        #expect(manifest["layers"] != nil, "the image really is in the registry: \(manifest)")
    }

    @Test func loginGitHubOutputCreatesTheFile() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let directory = TemporaryDirectory()
        let output = directory.path + "/github_output"
        let result = try await ECRPushCLI.run(
            ["login", "--output", "github"], environment: moto.containeriseEnvironment.merging(["GITHUB_OUTPUT": output]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.contains("registry=\(registry.hostPort)") && lines.contains("password=\(registry.password)"))

        let missing = try await ECRPushCLI.run(
            ["login", "--output", "github"],
            environment: moto.containeriseEnvironment.merging(["GITHUB_OUTPUT": directory.path + "/nowhere/out"]) { $1 })
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("\(directory.path)/nowhere/out: cannot open it for appending"), "\(missing.stderrText)")
    }

    /// `login --output docker-config` where config.json is a dotfile manager's link, to an entry holding a stale
    /// identity token: the link stays, the target gets the login without the token, keeps its other keys and mode.
    @Test func dockerConfigThroughASymlinkDropsTheStaleIdentityToken() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let dockerConfig = TemporaryDirectory()
        let dotfiles = TemporaryDirectory()
        let target = dotfiles.path + "/docker.json"
        try """
        {"auths": {"\(registry.hostPort)": {"auth": "QVdTOnN0YWxl", "identitytoken": "stale-token"},
                   "ghcr.io": {"auth": "Z2g6eA=="}},
         "credsStore": "", "detachKeys": "ctrl-e,e"}
        """.write(toFile: target, atomically: true, encoding: .utf8)
        chmod(target, 0o644)
        let link = dockerConfig.path + "/config.json"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)

        let result = try await ECRPushCLI.run(
            ["login", "--output", "docker-config"],
            environment: moto.containeriseEnvironment.merging(["DOCKER_CONFIG": dockerConfig.path]) { $1 })
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("written to \(link) (a symbolic link to \(target))"), "\(result.stderrText)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target, "the link is still a link")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: target))) as? [String: Any])
        let auths = try #require(document["auths"] as? [String: [String: String]])
        #expect(auths[registry.hostPort] == ["auth": Data("AWS:\(registry.password)".utf8).base64EncodedString()])
        #expect(auths["ghcr.io"] == ["auth": "Z2g6eA=="])
        #expect(document["detachKeys"] as? String == "ctrl-e,e")
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dotfiles.path) == ["docker.json"], "no temporary file left")
    }
}
