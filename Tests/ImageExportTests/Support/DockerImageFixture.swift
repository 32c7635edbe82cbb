import Foundation
import TestWorld

/// One small image built once per test process by the real private dockerd (TestWorld), and its
/// `docker save` archive. Debian's dockerd (20.10) writes the legacy layout: `<id>/layer.tar`, `<hex>.json`,
/// `manifest.json` last, and a symlink for the repeated layer.
struct DockerImageFixture: Sendable {
    let daemon: DockerDaemon
    let tag: String
    let directory: TemporaryDirectory
    let imageID: String
    let diffIDs: [String]
    /// `manifest.json`'s Config and Layers.
    let configPath: String
    let layerPaths: [String]

    var archivePath: String { directory.path + "/saved.tar" }
    /// The archive unpacked with the real tar, for building variants of it.
    var extractedPath: String { directory.path + "/extracted" }

    static let helloText = "hello from the test image\n"

    static func shared() async throws -> DockerImageFixture { try await Cache.instance.fixture() }

    private actor Cache {
        static let instance = Cache()
        private var task: Task<DockerImageFixture, Error>?

        func fixture() async throws -> DockerImageFixture {
            if task == nil { task = Task { try await DockerImageFixture.build() } }
            return try await task!.value
        }
    }

    private static func build() async throws -> DockerImageFixture {
        let daemon = try await DockerDaemon.shared()
        let directory = TemporaryDirectory(prefix: "iedk")
        // The fixture lives as long as the process, so its deinit never runs: remove it at exit instead.
        ExitCleanup.remove(directory.path)
        let context = directory.path + "/context"
        try writeFile(context + "/hello.txt", helloText)
        // Over the 1 MiB in-memory limit, part compressible and part not.
        try writeFile(context + "/data.bin", textBytes(1_500_000) + randomBytes(1_500_000, seed: 42))
        // hello.txt is added, removed and added again: layers 1 and 4 are identical, so `docker save`
        // writes the second as a symlink to the first.
        try writeFile(
            context + "/Dockerfile",
            """
            FROM busybox:local
            COPY hello.txt /hello.txt
            RUN rm /hello.txt
            COPY data.bin /data.bin
            COPY hello.txt /hello.txt
            """)
        let tag = "ie-test/app:1"
        try await run(daemon, ["build", "--network", "none", "-t", tag, context])
        try await run(daemon, ["save", "-o", directory.path + "/saved.tar", tag])
        let imageID = try await run(daemon, ["image", "inspect", "--format", "{{.Id}}", tag])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let layersJSON = try await run(daemon, ["image", "inspect", "--format", "{{json .RootFS.Layers}}", tag])
        let diffIDs = try JSONDecoder().decode([String].self, from: Data(layersJSON.utf8))

        try await shell("mkdir extracted && tar -xf saved.tar -C extracted", in: directory.path)
        struct Entry: Decodable { let Config: String; let Layers: [String] }
        let manifest = try JSONDecoder().decode([Entry].self, from: Data(try readFile(directory.path + "/extracted/manifest.json")))
        return DockerImageFixture(
            daemon: daemon, tag: tag, directory: directory, imageID: imageID, diffIDs: diffIDs,
            configPath: manifest[0].Config, layerPaths: manifest[0].Layers)
    }

    @discardableResult
    static func run(_ daemon: DockerDaemon, _ arguments: [String]) async throws -> String {
        let result = try await daemon.docker(arguments)
        guard result.status == 0 else { throw TestFailure("docker \(arguments.joined(separator: " ")) failed: \(result.combinedText)") }
        return result.stdoutText
    }
}

/// Directories to remove when the test process exits.
enum ExitCleanup {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: [String] = []
    private static let registered: Void = { atexit { ExitCleanup.removeAll() } }()

    static func remove(_ path: String) {
        _ = registered
        lock.withLock { paths.append(path) }
    }

    private static func removeAll() {
        for path in lock.withLock({ paths }) { try? FileManager.default.removeItem(atPath: path) }
    }
}
