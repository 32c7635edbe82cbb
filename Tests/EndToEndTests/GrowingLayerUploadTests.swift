import Foundation
import TestWorld
import Testing

/// A layer of 16 MiB or more is uploaded while it is compressed: one chunked PATCH that follows the compressed file
/// as it grows, then the PUT with the digest known at the end. When that upload breaks, the finished file is sent
/// again the usual way. Either way the image pulls back and runs with the same bytes.
@Suite struct GrowingLayerUploadTests {
    typealias World = BuildAndPushTests.World

    /// busybox and a 24 MiB layer (half random, half text), built once; its command prints the layer's checksum.
    static let image = Once<(id: String, output: String)>()

    static func builtImage(_ world: World) async throws -> (id: String, output: String) {
        try await image.get {
            let context = TemporaryDirectory()
            try """
            FROM \(DockerDaemon.baseImage)
            RUN head -c 12582912 /dev/urandom > /random && yes "a line of text in the growing layer" | head -c 12582912 > /text
            LABEL ecrpush.test="growing-\(UInt32.random(in: 0...UInt32.max))"
            CMD ["sh", "-c", "cat /random /text | md5sum"]
            """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
            let build = try await world.docker.docker(["build", "-q", context.path])
            let id = build.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            guard build.status == 0, id.hasPrefix("sha256:") else {
                throw WorldError.commandFailed(command: "docker build", status: build.status, output: build.combinedText)
            }
            let run = try await world.docker.docker(["run", "--rm", "--network", "none", id])
            guard run.status == 0, run.stdoutText.count > 32 else {
                throw WorldError.commandFailed(command: "docker run", status: run.status, output: run.combinedText)
            }
            return (id, run.stdoutText)
        }
    }

    func push(_ world: World, proxy: FaultProxy, imageID: String, repository: String) async throws -> ProcessResult {
        let scratch = TemporaryDirectory()
        let result = try await ECRPushCLI.run(
            [
                "push", imageID, "--repository", repository, "--tag", "v1", "--create-repository", "--registry", proxy.hostPort,
                "--transport", "registry", "--no-base-layers", "--no-blob-cache"
            ],
            environment: world.environment.merging(["TMPDIR": scratch.path]) { $1 })
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "temporary space is empty")
        return result
    }

    /// The pushed tag pulls from the registry itself and runs with the layer's bytes intact.
    func verifyPulled(_ world: World, repository: String, expected: String) async throws {
        let manifest = try await world.registry.manifest(repository: repository, reference: "v1")
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        #expect(layers.count == 2, "busybox and the big layer")
        for layer in layers {
            let digest = try #require(layer["digest"] as? String)
            let data = try await world.registry.blob(repository: repository, digest: digest)
            #expect(data.count == layer["size"] as? Int)
            #expect(try await sha256Digest(data) == digest, "the registry holds the bytes the manifest names")
        }
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.status == 0 && run.stdoutText == expected, "\(run.combinedText)")
    }

    @Test func aBigLayerIsSentWhileItIsCompressed() async throws {
        let world = try await FaultInjectionTests.sharedWorld()
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        let image = try await Self.builtImage(world)
        let repository = BuildAndPushTests.uniqueName("growing")
        let result = try await push(world, proxy: proxy, imageID: image.id, repository: repository)
        try #require(result.status == 0, "\(result.combinedText)")
        let seen = try await proxy.seen()
        let uploads = seen.filter(\.sendsBlob)
        // The big layer in one chunked PATCH (its size unknown when it started); busybox and the config each in the
        // PUT that finishes its upload.
        #expect(uploads.filter { $0.chunked == true }.map(\.status) == [.code(202)], "\(uploads)")
        #expect(uploads.filter { $0.chunked != true }.map(\.method) == ["PUT", "PUT"], "\(uploads)")
        #expect(!result.stderrText.contains("could not be sent while it was compressed"), "\(result.stderrText)")
        try await verifyPulled(world, repository: repository, expected: image.output)
    }

    @Test func aBrokenUploadWhileCompressingIsSentAgainFromTheFinishedFile() async throws {
        let world = try await FaultInjectionTests.sharedWorld()
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        let image = try await Self.builtImage(world)
        let repository = BuildAndPushTests.uniqueName("growing-reset")
        try await proxy.setRules([["method": "PATCH", "chunked": true, "reset": "during"]])
        let result = try await push(world, proxy: proxy, imageID: image.id, repository: repository)
        try #require(result.status == 0, "\(result.combinedText)")
        #expect(result.stderrText.contains("could not be sent while it was compressed"), "\(result.stderrText)")
        let uploads = try await proxy.seen().filter(\.sendsBlob)
        #expect(uploads.filter { $0.chunked == true }.map(\.status) == [.fault("reset")], "\(uploads)")
        // The big layer again, with its size known, besides busybox and the config.
        #expect(uploads.filter { $0.chunked != true && $0.status == .code(201) }.count == 3, "\(uploads)")
        try await verifyPulled(world, repository: repository, expected: image.output)
    }

    /// The blob cache knows the big layer from an earlier push: an image that adds a layer on top (a rebuilt app over
    /// unchanged dependencies) gets it mounted into a new repository, neither compressed nor sent again.
    @Test func aBigLayerPushedBeforeIsMountedNotSentAgain() async throws {
        let world = try await FaultInjectionTests.sharedWorld()
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        let image = try await Self.builtImage(world)
        let context = TemporaryDirectory()
        try "FROM \(image.id)\nRUN echo rebuilt > /top\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let build = try await world.docker.docker(["build", "-q", context.path])
        let rebuilt = build.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(build.status == 0 && rebuilt.hasPrefix("sha256:"), "\(build.combinedText)")
        let cache = TemporaryDirectory()
        func push(_ imageID: String, to repository: String) async throws -> ProcessResult {
            try await ECRPushCLI.run(
                [
                    "push", imageID, "--repository", repository, "--tag", "v1", "--create-repository", "--registry", proxy.hostPort,
                    "--transport", "registry", "--no-base-layers"
                ],
                environment: world.environment.merging(["XDG_CACHE_HOME": cache.path]) { $1 })
        }
        let first = try await push(image.id, to: BuildAndPushTests.uniqueName("growing-first"))
        try #require(first.status == 0, "\(first.combinedText)")
        try await proxy.reset()

        let repository = BuildAndPushTests.uniqueName("growing-rebuilt")
        let second = try await push(rebuilt, to: repository)
        try #require(second.status == 0, "\(second.combinedText)")
        #expect(second.stderrText.contains("2 layers pushed before are in"), "\(second.stderrText)")
        #expect(second.stderrText.components(separatedBy: "Mounted from").count - 1 == 2, "\(second.stderrText)")
        let uploads = try await proxy.seen().filter(\.sendsBlob)
        #expect(!uploads.contains { $0.chunked == true }, "nothing sent while compressed: \(uploads)")
        #expect(uploads.count == 2, "only the new top layer and the config: \(uploads)")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        #expect(run.status == 0 && run.stdoutText == image.output, "\(run.combinedText)")
    }

    /// A fresh runner rebuilt an image whose big layer is unchanged (no local ancestor, an empty blob cache: as
    /// with BuildKit's --cache-from): the layers the tag's current image shares are read from its manifest and
    /// config, so the big layer is neither compressed nor sent again; only the new top layer and the config go up.
    @Test func aBigLayerTheTagAlreadyHasIsNotSentAgain() async throws {
        let world = try await FaultInjectionTests.sharedWorld()
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        let unique = UInt32.random(in: 0...UInt32.max)
        func build(top: String) async throws -> String {
            let context = TemporaryDirectory()
            try """
            FROM \(DockerDaemon.baseImage)
            RUN head -c 20971520 /dev/urandom > /big && echo \(unique) > /unique
            RUN echo \(top) > /top
            CMD ["sh", "-c", "md5sum /big | cut -c1-32; cat /top"]
            """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
            let build = try await world.docker.docker(["build", "-q", context.path])
            let id = build.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            guard build.status == 0, id.hasPrefix("sha256:") else {
                throw WorldError.commandFailed(command: "docker build", status: build.status, output: build.combinedText)
            }
            return id
        }
        let (first, second) = (try await build(top: "first"), try await build(top: "second"))
        let repository = BuildAndPushTests.uniqueName("current-tag")
        func push(_ imageID: String) async throws -> ProcessResult {
            // A fresh runner each time: an empty cache, kept until the push is over (released at its last use, it
            // would be removed before the push, which would make it again for good).
            let cache = TemporaryDirectory()
            defer { cache.remove() }
            return try await ECRPushCLI.run(
                [
                    "push", imageID, "--repository", repository, "--tag", "v1", "--create-repository", "--registry", proxy.hostPort,
                    "--transport", "registry"
                ],
                environment: world.environment.merging(["XDG_CACHE_HOME": cache.path]) { $1 })
        }
        let pushedFirst = try await push(first)
        try #require(pushedFirst.status == 0, "\(pushedFirst.combinedText)")
        try await proxy.reset()

        let pushedSecond = try await push(second)
        try #require(pushedSecond.status == 0, "\(pushedSecond.combinedText)")
        #expect(pushedSecond.stderrText.contains(":v1 as it is now are this image's too"), "\(pushedSecond.stderrText)")
        let uploads = try await proxy.seen().filter(\.sendsBlob)
        #expect(!uploads.contains { $0.chunked == true }, "the big layer is not sent while compressed: \(uploads)")
        #expect(uploads.count == 2, "only the new top layer and the config: \(uploads)")
        let run = try await world.pullAndRun("\(world.registry.hostPort)/\(repository):v1")
        let big = try await world.docker.docker(["run", "--rm", "--network", "none", first])
        #expect(run.status == 0 && run.stdoutText == big.stdoutText.replacingOccurrences(of: "first", with: "second"), "\(run.combinedText)")
    }
}
