import Foundation
import TestWorld
import Testing

/// `build-and-push --platform a,b`: one Engine build per platform, each image pushed by digest, and a Docker manifest
/// list (gzip) or OCI index (zstd) under the tags, which `docker pull --platform` resolves to that platform's image.
/// No RUN for the foreign platform (`FROM scratch` + `COPY`): this machine has no emulation to count on.
@Suite struct MultiPlatformTests {
    typealias World = BuildAndPushTests.World

    static let manifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    static let ociIndex = "application/vnd.oci.image.index.v1+json"
    static let ociManifest = "application/vnd.oci.image.manifest.v1+json"

    /// A `FROM scratch` context whose one file is new on every run (new digests, nothing shared with other runs).
    static func scratchContext() throws -> TemporaryDirectory {
        let context = TemporaryDirectory()
        try "FROM scratch\nCOPY hello.txt /\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        try "hello \(UInt64.random(in: 0...UInt64.max))\n".write(toFile: context.path + "/hello.txt", atomically: true, encoding: .utf8)
        return context
    }

    /// The index the tag names, as the registry stores it.
    static func index(_ world: World, repository: String, reference: String) async throws -> [String: Any] {
        let bytes = try await world.registry.manifestBytes(repository: repository, reference: reference)
        return try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
    }

    /// `docker pull --platform` of `reference` with a fresh login, then the pulled image's `os/architecture`.
    static func pull(_ world: World, _ reference: String, platform: String) async throws -> String {
        let config = TemporaryDirectory()
        let base = ["--config", config.path, "-H", world.docker.host]
        let login = try await runProcess(
            "docker", base + ["login", "--username", "AWS", "--password-stdin", world.registry.hostPort], stdin: Data(world.registry.password.utf8))
        try #require(login.status == 0, "\(login.combinedText)")
        _ = try await runProcess("docker", base + ["rmi", "-f", reference])
        let pull = try await runProcess("docker", base + ["pull", "--platform", platform, reference])
        try #require(pull.status == 0, "\(pull.combinedText)")
        let inspect = try await runProcess("docker", base + ["image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", reference])
        try #require(inspect.status == 0, "\(inspect.combinedText)")
        return inspect.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func twoPlatformsGiveAManifestListPulledPerPlatform() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let context = try Self.scratchContext()
        let repository = BuildAndPushTests.uniqueName("multi")
        let arguments = [
            "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--platform", "linux/amd64,linux/arm64",
            "--create-repository", "--output", "json"
        ]
        let result = try await ECRPushCLI.run(arguments, environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let digest = try #require(json["digest"] as? String)
        #expect(json["imageUri"] as? String == "\(world.registry.hostPort)/\(repository)@\(digest)")
        #expect(json["mediaType"] as? String == Self.manifestList)
        #expect(json["tags"] as? [String] == ["v1"])
        let platforms = try #require(json["platforms"] as? [[String: String]])
        #expect(platforms.map { $0["platform"] } == ["linux/amd64", "linux/arm64"])
        #expect(platforms.allSatisfy { $0["mediaType"] == Self.dockerManifest })
        #expect(result.stderrText.contains("Building for linux/arm64 (2 of 2)"), "\(result.stderrText)")

        // The tag names a manifest list whose entries are the two images, with their configs' platforms.
        let index = try await Self.index(world, repository: repository, reference: "v1")
        #expect(index["mediaType"] as? String == Self.manifestList)
        let entries = try #require(index["manifests"] as? [[String: Any]])
        #expect(entries.count == 2)
        #expect(entries.compactMap { $0["digest"] as? String } == platforms.compactMap { $0["digest"] })
        #expect(
            entries.map { ($0["platform"] as? [String: String]) ?? [:] } == [
                ["architecture": "amd64", "os": "linux"], ["architecture": "arm64", "os": "linux"]
            ])
        #expect(Set(entries.compactMap { $0["digest"] as? String }).count == 2, "two different images")
        let digestReference = try await world.registry.manifestBytes(repository: repository, reference: digest)
        #expect(try await world.registry.manifestBytes(repository: repository, reference: "v1") == digestReference)
        // Each platform's image is in the repository by digest, and its config says its platform.
        let arm64 = try await world.registry.manifest(repository: repository, reference: try #require(platforms[1]["digest"]))
        #expect(arm64["mediaType"] as? String == Self.dockerManifest)
        let configDigest = try #require((arm64["config"] as? [String: Any])?["digest"] as? String)
        let config = try #require(
            try JSONSerialization.jsonObject(with: try await world.registry.blob(repository: repository, digest: configDigest)) as? [String: Any])
        #expect(config["architecture"] as? String == "arm64")

        // docker pull --platform gets each platform's image from the one tag.
        let tagged = "\(world.registry.hostPort)/\(repository):v1"
        #expect(try await Self.pull(world, tagged, platform: "linux/arm64") == "linux/arm64")
        #expect(try await Self.pull(world, tagged, platform: "linux/amd64") == "linux/amd64")

    }

    /// An immutable tag that already names an image fails before any platform is built; `--skip-existing` makes that
    /// a success without building. (moto knows only images put through ECR's API: the tag is given one that way.)
    @Test func takenImmutableTagStopsBeforeTheBuilds() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("multi-immutable")
        let seeded = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--create-repository", "--image-tag-mutability",
                "IMMUTABLE", "--registry", world.registry.hostPort, "--transport", "ecr-api", "--output", "json"
            ], environment: world.environment)
        try #require(seeded.status == 0, "\(seeded.combinedText)")
        let digest = try #require((try JSONSerialization.jsonObject(with: seeded.stdout) as? [String: Any])?["digest"] as? String)
        let context = try Self.scratchContext()
        let arguments = [
            "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--platform", "linux/amd64,linux/arm64", "--registry",
            world.registry.hostPort, "--output", "json"
        ]
        let refused = try await ECRPushCLI.run(arguments, environment: world.environment)
        #expect(refused.status == 1, "\(refused.combinedText)")
        #expect(refused.stderrText.contains("tag 'v1' already exists") && refused.stderrText.contains(digest), "\(refused.stderrText)")
        #expect(!refused.stderrText.contains("Building for"), "nothing built: \(refused.stderrText)")

        let skipped = try await ECRPushCLI.run(arguments + ["--skip-existing"], environment: world.environment)
        try #require(skipped.status == 0, "\(skipped.combinedText)")
        let json = try #require(try JSONSerialization.jsonObject(with: skipped.stdout) as? [String: Any])
        #expect(json["digest"] as? String == digest)
        #expect(json["alreadyPushed"] as? Bool == true)
        #expect(!skipped.stderrText.contains("Building for"), "\(skipped.stderrText)")
    }

    /// zstd layers need OCI manifests, so the index is an OCI one; to two repositories of the registry at once, the
    /// second getting its blobs mounted from the first. Text output: the references on stdout, each platform's digest
    /// on stderr.
    @Test func zstdGivesAnOCIIndexInEveryRepository() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let context = try Self.scratchContext()
        let first = BuildAndPushTests.uniqueName("multi-z")
        let second = first + "-b"
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", first, "--repository", second, "--tag", "v1", "--platform",
                "linux/arm64,linux/amd64", "--compression", "zstd", "--create-repository"
            ], environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(result.stdoutText)")
        let digest = try #require(lines.last?.split(separator: "@").last.map(String.init))
        #expect(lines.contains("\(world.registry.hostPort)/\(first)@\(digest)") && lines.contains("\(world.registry.hostPort)/\(second)@\(digest)"))
        #expect(result.stderrText.contains("linux/arm64: sha256:") && result.stderrText.contains("linux/amd64: sha256:"), "\(result.stderrText)")
        #expect(result.stderrText.contains("@2: Mounted from \(first)"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("@2: Pushed"), "\(result.stderrText)")

        for repository in [first, second] {
            let index = try await Self.index(world, repository: repository, reference: "v1")
            #expect(index["mediaType"] as? String == Self.ociIndex)
            let entries = try #require(index["manifests"] as? [[String: Any]])
            #expect(entries.map { $0["mediaType"] as? String } == [Self.ociManifest, Self.ociManifest])
            #expect(entries.map { ($0["platform"] as? [String: String])?["architecture"] } == ["arm64", "amd64"])
        }
        let arm64 = try await world.registry.manifest(
            repository: second,
            reference: try #require(
                (try await Self.index(world, repository: second, reference: "v1")["manifests"] as? [[String: Any]])?[0]["digest"] as? String))
        #expect((arm64["layers"] as? [[String: Any]])?.first?["mediaType"] as? String == "application/vnd.oci.image.layer.v1.tar+zstd")
        #expect(try await Self.pull(world, "\(world.registry.hostPort)/\(second):v1", platform: "linux/arm64") == "linux/arm64")
    }

    /// Docker 20.10's classic builder ignores --platform for FROM scratch (the image says linux/amd64 whatever was
    /// asked): the push refuses the mislabelled image rather than putting it in the index, and pushes nothing.
    @Test func classicBuilderThatIgnoresThePlatformIsRefused() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let context = try Self.scratchContext()
        let repository = BuildAndPushTests.uniqueName("multi-classic")
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--platform", "linux/amd64,linux/arm64",
                "--builder", "classic", "--create-repository"
            ], environment: world.environment)
        #expect(result.status == 1, "\(result.combinedText)")
        #expect(result.stderrText.contains("the image built for --platform linux/arm64 is linux/amd64"), "\(result.stderrText)")
        #expect(result.stderrText.contains("--builder buildkit"))
        #expect(result.stdoutText.isEmpty)
        #expect(try await world.registry.manifestStatus(repository: repository, reference: "v1") == 404)
    }

    /// A static program that exits 0: an ELF for `machine` (62 x86-64, 183 AArch64) with `code` at its entry.
    static func tinyELF(machine: UInt16, code: [UInt8]) -> Data {
        func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        let size = UInt64(64 + 56 + code.count)
        let header =
            [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1] + [UInt8](repeating: 0, count: 9) + le(UInt16(2)) + le(machine) + le(UInt32(1))
            + le(UInt64(0x40_0078)) + le(UInt64(64)) + le(UInt64(0)) + le(UInt32(0)) + le(UInt16(64)) + le(UInt16(56)) + le(UInt16(1))
            + le(UInt16(0)) + le(UInt16(0)) + le(UInt16(0))
        let program =
            le(UInt32(1)) + le(UInt32(5)) + le(UInt64(0)) + le(UInt64(0x40_0000)) + le(UInt64(0x40_0000)) + le(size) + le(size)
            + le(UInt64(0x1000))
        return Data(header + program + code)
    }

    /// A RUN for arm64 on this amd64 machine: without a binfmt handler for AArch64, the Engine's "exec format error"
    /// comes with the hint (binfmt/QEMU, or a native runner), from BuildKit's step log and from the classic builder's
    /// output alike, and nothing is pushed; with one, the build succeeds.
    @Test func foreignRunNeedsEmulationAndSaysHowToGetIt() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let context = TemporaryDirectory()
        // mov w0, #0; mov x8, #93 (exit); svc #0  |  mov eax, 60 (exit); xor edi, edi; syscall
        let arm64 = Self.tinyELF(machine: 183, code: [0x00, 0x00, 0x80, 0xD2, 0xA8, 0x0B, 0x80, 0xD2, 0x01, 0x00, 0x00, 0xD4])
        let amd64 = Self.tinyELF(machine: 62, code: [0xB8, 0x3C, 0x00, 0x00, 0x00, 0x31, 0xFF, 0x0F, 0x05])
        for (name, bytes) in [("true-arm64", arm64), ("true-amd64", amd64)] {
            let path = context.path + "/" + name
            _ = FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o755])
        }
        try "FROM scratch\nARG TARGETARCH\nCOPY true-${TARGETARCH} /true\nRUN [\"/true\"]\n"
            .write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let emulated = FileManager.default.fileExists(atPath: "/proc/sys/fs/binfmt_misc/qemu-aarch64")
        let repository = BuildAndPushTests.uniqueName("multi-emu")
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", repository, "--tag", "v1", "--platform", "linux/amd64,linux/arm64",
                "--create-repository"
            ], environment: world.environment)
        if emulated {
            #expect(result.status == 0, "this machine runs AArch64 programs: \(result.combinedText)")
            return
        }
        #expect(result.status == 1, "\(result.combinedText)")
        #expect(result.stderrText.contains("exec format error"), "the Engine's error: \(result.stderrText)")
        #expect(result.stderrText.contains("The build for linux/arm64 runs a program built for another CPU architecture"), "\(result.stderrText)")
        #expect(result.stderrText.contains("docker run --privileged --rm tonistiigi/binfmt --install all"))
        #expect(result.stderrText.contains("native") || result.stderrText.contains("runner of that architecture"))
        #expect(try await world.registry.manifestStatus(repository: repository, reference: "v1") == 404)

        // The classic builder prints the error in the step's output, not in the build's error: the hint all the same.
        try "FROM scratch\nCOPY true-arm64 /true\nRUN [\"/true\"]\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let classic = try await ECRPushCLI.run(
            ["build", context.path, "--builder", "classic", "-q"], environment: ["DOCKER_HOST": world.docker.host])
        #expect(classic.status == 1, "\(classic.combinedText)")
        #expect(classic.stderrText.contains("The build runs a program built for another CPU architecture"), "\(classic.stderrText)")
        #expect(classic.stderrText.contains("tonistiigi/binfmt"))
    }

    /// Refused before any request (exit 64): what cannot be honoured, and malformed platforms.
    @Test func refusedCombinationsExit64() async throws {
        let context = try Self.scratchContext()
        let environment = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "eu-west-1"]
        let push = ["build-and-push", context.path, "--repository", "app", "--tag", "v1"]
        let cases: [([String], String)] = [
            (["build", context.path, "--platform", "linux/amd64,linux/arm64"], "cannot hold a multi-platform index"),
            (push + ["--platform", "linux/amd64,arm64"], "'arm64' is not os/arch[/variant]"),
            (push + ["--platform", "linux/amd64,"], "empty entry"),
            (push + ["--platform", "linux/amd64,linux/x86_64"], "given twice"),
            (push + ["--platform", "linux/amd64,linux/arm64", "--transport", "daemon"], "needs --transport registry"),
            (push + ["--platform", "linux/amd64,linux/arm64", "--transport", "ecr-api"], "needs --transport registry"),
            (push + ["--platform", "linux/amd64,linux/arm64", "--scan"], "--scan judges one image"),
            (push + ["--platform", "linux/amd64,linux/arm64", "--fail-on", "HIGH"], "--fail-on judges one image"),
            (push + ["--repository", "other", "--scan"], "not with several --registry or --repository"),
            (push + ["--repository", "other", "--skip-existing"], "--skip-existing accepts the image already in one repository"),
            (push + ["--repository", "app"], "--repository app is given twice"),
            (["push", "busybox", "--repository", "app", "--repository", "other", "--transport", "daemon"], "several --registry or --repository")
        ]
        for (arguments, message) in cases {
            let result = try await ECRPushCLI.run(arguments, environment: environment)
            #expect(result.status == 64, "\(arguments): \(result.combinedText)")
            #expect(result.stderrText.contains(message), "\(arguments): \(result.stderrText)")
        }
    }
}
