import Foundation
import TestWorld
import Testing

/// Cold pushes of a three-layer image through tools/faultproxy.py, each with one fault: every case ends either
/// complete (the tag's manifest names blobs the registry has, with their sizes and the image's diffIDs, and
/// docker pulls and runs it) or failed with a clear message and nothing tagged. The README's "Failures ecrpush
/// survives" table lists these cases.
@Suite struct FaultInjectionTests {
    typealias World = BuildAndPushTests.World

    enum Outcome: Sendable {
        /// Pushed, and stderr says each of these (the retries it made).
        case complete(saying: [String])
        /// Exit 1, stderr says this, the tag does not exist.
        case failed(saying: String)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var rules: [[String: any Sendable]]
        var arguments: [String] = []
        var outcome: Outcome
        /// The foreign origin (an upload Location on another port) forwards without adding the registry's login.
        var foreignIsStrict = false
        /// Logins the push gets (a 401 mid-push gets one fresh login).
        var logins = 1
        var testDescription: String { name }
    }

    static let manifestPath = "/manifests/"
    static let blobHead = "/blobs/sha256:"
    static let uploads = "/blobs/uploads/"

    static let cases: [Case] = [
        Case(
            name: "429 TOOMANYREQUESTS with Retry-After: 2 on the manifest PUT",
            rules: [
                [
                    "method": "PUT", "path": manifestPath, "status": 429, "headers": ["Retry-After": "2"],
                    "body": #"{"errors":[{"code":"TOOMANYREQUESTS","message":"Rate exceeded"}]}"#
                ]
            ],
            outcome: .complete(saying: ["manifests/v1 in 2.0 s: HTTP 429 TOOMANYREQUESTS"])),
        Case(
            name: "one 503 on a blob HEAD", rules: [["method": "HEAD", "path": blobHead, "status": 503]],
            outcome: .complete(saying: ["HTTP 503"])),
        Case(
            name: "connections refused for 2 s from the first upload", rules: [["method": "POST", "path": uploads, "refuse": 2]],
            outcome: .complete(saying: ["retrying POST"])),
        Case(
            name: "upload Location on another origin (storage that carries its own authorization)",
            rules: [["method": "POST", "path": uploads, "foreign": "presigned", "times": -1]],
            outcome: .complete(saying: [])),
        Case(
            name: "upload Location on another origin that asks for credentials",
            rules: [["method": "POST", "path": uploads, "foreign": "strict", "times": -1]],
            outcome: .failed(saying: "which asked for credentials (HTTP 401)"), foreignIsStrict: true),
        Case(
            name: "connection reset in the middle of a layer's upload",
            rules: [["method": "PUT", "path": uploads, "min_length": 65537, "reset": "during"]],
            outcome: .complete(saying: ["on a fresh session"])),
        Case(
            name: "503 on a layer's upload", rules: [["method": "PUT", "path": uploads, "min_length": 65537, "status": 503]],
            outcome: .complete(saying: ["on a fresh session"])),
        Case(
            name: "503 on the blob PUT that finishes an upload", rules: [["method": "PUT", "path": uploads, "status": 503]],
            outcome: .complete(saying: ["on a fresh session"])),
        Case(
            name: "500 on the POST that starts an upload", rules: [["method": "POST", "path": uploads, "status": 500, "times": 2]],
            outcome: .complete(saying: ["HTTP 500"])),
        // libcurl resends a request whose reused connection died before any answer: no retry of ecrpush's own.
        Case(
            name: "connection reset during the config upload",
            rules: [["method": "PUT", "path": uploads, "min_length": 1, "max_length": 65536, "reset": "before"]], outcome: .complete(saying: [])),
        Case(
            name: "503 on the config upload", rules: [["method": "PUT", "path": uploads, "min_length": 1, "max_length": 65536, "status": 503]],
            outcome: .complete(saying: ["on a fresh session"])),
        Case(
            name: "401 once in the middle of the push (a token rotated)",
            rules: [
                [
                    "method": "HEAD", "path": blobHead, "skip": 1, "status": 401,
                    "body": #"{"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]}"#
                ]
            ],
            outcome: .complete(saying: ["HTTP 401, got a fresh login"]), logins: 2),
        Case(
            name: "401 on everything", rules: [["path": "/v2/", "status": 401, "times": -1]],
            outcome: .failed(saying: "refused the login"), logins: 2),
        Case(
            name: "a stall on the manifest PUT", rules: [["method": "PUT", "path": manifestPath, "stall": 40]],
            arguments: ["--stall-timeout", "2"], outcome: .complete(saying: ["manifests/v1 in"])),
        Case(
            name: "503 on every manifest PUT until the retry budget is spent",
            rules: [["method": "PUT", "path": manifestPath, "status": 503, "times": -1]],
            arguments: ["--retry-timeout", "3"], outcome: .failed(saying: "HTTP 503"))
    ]

    /// A three-layer image of this suite's own (two random layers and a small one), built once for all cases: 15
    /// legacy builds of the same steps at once race in the Engine's build cache ("unable to find image").
    static let image = Once<String>()

    static func imageID(_ world: World) async throws -> String {
        try await image.get {
            let context = TemporaryDirectory()
            try """
            FROM \(DockerDaemon.baseImage)
            RUN head -c 6291456 /dev/urandom > /six
            RUN head -c 3145728 /dev/urandom > /three && echo fault-suite > /name
            LABEL ecrpush.test="fault-injection-\(UInt32.random(in: 0...UInt32.max))"
            CMD ["sh", "-c", "cat /name"]
            """.write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
            let build = try await world.docker.docker(["build", "-q", context.path])
            let id = build.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            guard build.status == 0, id.hasPrefix("sha256:") else {
                throw WorldError.commandFailed(command: "docker build", status: build.status, output: build.combinedText)
            }
            return id
        }
    }

    /// One moto for the whole suite: a moto per case, all starting at once, starve a 2-core machine.
    static let world = Once<World>()

    static func sharedWorld() async throws -> World {
        try await world.get { try await World.start() }
    }

    @Test(arguments: cases)
    func pushThroughTheFault(_ fault: Case) async throws {
        let world = try await Self.sharedWorld()
        let proxy = try await FaultProxy.start(for: world.registry, foreignAddsLogin: !fault.foreignIsStrict)
        defer { proxy.stop() }
        let imageID = try await Self.imageID(world)
        let repository = BuildAndPushTests.uniqueName("fault")
        try await proxy.setRules(fault.rules)
        let scratch = TemporaryDirectory()
        let result = try await ECRPushCLI.run(
            [
                "push", imageID, "--repository", repository, "--tag", "v1", "--create-repository",
                "--registry", proxy.hostPort, "--no-blob-cache", "--transport", "registry"
            ] + fault.arguments,
            environment: world.environment.merging(["TMPDIR": scratch.path]) { $1 })
        let seen = try await proxy.seen()
        #expect(!seen.contains { $0.listener == "foreign" && $0.authorization }, "the registry's login never leaves its origin")
        #expect(!result.combinedText.contains(world.registry.password))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "temporary space is empty")
        // One fresh login at most, said once (the suite's moto is shared, so its counts are not this case's).
        #expect(result.stderrText.components(separatedBy: "got a fresh login").count - 1 == fault.logins - 1, "\(result.stderrText)")
        // The fault happened: the proxy dropped, stalled or refused what the rule names.
        let injected = Set(seen.compactMap { if case .fault(let what) = $0.status { what } else { nil } })
        for rule in fault.rules {
            if rule["reset"] != nil { #expect(injected.contains("reset")) }
            if rule["stall"] != nil { #expect(injected.contains("stall")) }
            if rule["refuse"] != nil { #expect(injected.contains("refused")) }
            if let status = rule["status"] as? Int { #expect(seen.contains { $0.status == .code(status) }) }
        }

        switch fault.outcome {
        case .complete(let sayings):
            try #require(result.status == 0, "\(result.combinedText)")
            for saying in sayings {
                #expect(
                    result.stderrText.contains(saying),
                    "\(result.stderrText)\n\(seen.map { "\($0.method) \($0.path) \($0.status.map { "\($0)" } ?? "")" })")
            }
            let digestLine = try #require(result.stdoutText.split(separator: "\n").last.map(String.init))
            try await Self.verifyComplete(world, repository: repository, imageID: imageID, digestLine: digestLine, proxy: proxy)
        case .failed(let saying):
            #expect(result.status == 1, "\(result.combinedText)")
            #expect(result.stderrText.contains(saying), "\(result.stderrText)")
            await #expect(throws: (any Error).self, "nothing is tagged") {
                try await world.registry.manifest(repository: repository, reference: "v1")
            }
        }
    }

    /// The tag's manifest names blobs the registry has with the stated sizes, the config's diffIDs are the
    /// image's, and docker pulls the image back and runs it.
    static func verifyComplete(_ world: World, repository: String, imageID: String, digestLine: String, proxy: FaultProxy) async throws {
        let manifest = try await world.registry.manifest(repository: repository, reference: "v1")
        let layers = try #require(manifest["layers"] as? [[String: Any]])
        #expect(layers.count == 3)
        let config = try #require(manifest["config"] as? [String: Any])
        for blob in layers + [config] {
            let digest = try #require(blob["digest"] as? String)
            let data = try await world.registry.blob(repository: repository, digest: digest)
            #expect(data.count == blob["size"] as? Int, "\(digest) has the size the manifest says")
        }
        let configData = try await world.registry.blob(repository: repository, digest: try #require(config["digest"] as? String))
        let configObject = try #require(try JSONSerialization.jsonObject(with: configData) as? [String: Any])
        let diffIDs = (configObject["rootfs"] as? [String: Any])?["diff_ids"] as? [String]
        let local = try await world.docker.docker(["image", "inspect", "--format", "{{json .RootFS.Layers}}", imageID])
        #expect(try JSONSerialization.jsonObject(with: Data(local.stdoutText.utf8)) as? [String] == diffIDs)
        // Pulled from the registry itself, not through the proxy.
        let direct = digestLine.replacingOccurrences(of: proxy.hostPort, with: world.registry.hostPort)
        let run = try await world.pullAndRun(direct)
        #expect(run.status == 0 && run.stdoutText == "fault-suite\n", "\(run.combinedText)")
    }

    /// The ECR API transport against ECR's own throttling and 5xx answers (motoworld's --fault): AWS's retry
    /// policy absorbs them, and the push completes with every blob in place.
    @Test(arguments: [
        ["UploadLayerPart:throttle:2", "PutImage:5xx:1"],
        ["InitiateLayerUpload:5xx:2", "BatchCheckLayerAvailability:throttle:1", "CompleteLayerUpload:throttle:1"]
    ])
    func ecrAPIThrottlingAndServerErrors(_ faults: [String]) async throws {
        let registry = try await LoopbackRegistry.shared()
        let docker = try await DockerDaemon.shared()
        let moto = try await MotoWorld.start(registry: registry, extraArgs: faults.flatMap { ["--fault", $0] })
        defer { moto.stop() }
        let world = World(registry: registry, docker: docker, moto: moto)
        let imageID = try await Self.imageID(world)
        let repository = BuildAndPushTests.uniqueName("fault-api")
        let result = try await ECRPushCLI.run(
            [
                "push", imageID, "--repository", repository, "--tag", "v1", "--create-repository", "--transport", "ecr-api",
                "--registry", registry.hostPort, "--no-blob-cache"
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let counts = try await moto.counts()
        for fault in faults {
            let parts = fault.split(separator: ":")
            let action = String(parts[0])
            #expect(counts[action, default: 0] > Int(parts[2])!, "\(action) was answered with faults, then retried: \(counts)")
        }
        let digestLine = try #require(result.stdoutText.split(separator: "\n").last.map(String.init))
        let direct = digestLine
        let manifest = try await registry.manifest(repository: repository, reference: "v1")
        #expect((manifest["layers"] as? [[String: Any]])?.count == 3)
        let run = try await world.pullAndRun(direct)
        #expect(run.status == 0 && run.stdoutText == "fault-suite\n", "\(run.combinedText)")
    }

    /// A re-push to another repository mounts the blobs the blob cache remembers; a mount answered with a reset
    /// or a 503 is retried (or falls back to reading the image), and the push completes.
    @Test(arguments: [["reset": "before"], ["status": 503]] as [[String: any Sendable]])
    func mountThroughAFault(_ action: [String: any Sendable]) async throws {
        let world = try await Self.sharedWorld()
        let proxy = try await FaultProxy.start(for: world.registry)
        defer { proxy.stop() }
        let imageID = try await Self.imageID(world)
        let cache = TemporaryDirectory()
        let environment = world.environment.merging(["XDG_CACHE_HOME": cache.path]) { $1 }
        func push(_ repository: String) async throws -> ProcessResult {
            try await ECRPushCLI.run(
                [
                    "push", imageID, "--repository", repository, "--tag", "v1", "--create-repository",
                    "--registry", proxy.hostPort, "--transport", "registry"
                ], environment: environment)
        }
        let first = try await push(BuildAndPushTests.uniqueName("fault-src"))
        try #require(first.status == 0, "\(first.combinedText)")
        try await proxy.setRules([["method": "POST", "query": "mount=", "times": 2].merging(action) { $1 }])
        let repository = BuildAndPushTests.uniqueName("fault-mount")
        let second = try await push(repository)
        try #require(second.status == 0, "\(second.combinedText)")
        let seen = try await proxy.seen()
        #expect(seen.contains { $0.method == "POST" && ($0.status == .fault("reset") || $0.status == .code(503)) }, "the fault happened")
        #expect(second.stderrText.contains("Mounted from"), "\(second.stderrText)")
        let digestLine = try #require(second.stdoutText.split(separator: "\n").last.map(String.init))
        try await Self.verifyComplete(world, repository: repository, imageID: imageID, digestLine: digestLine, proxy: proxy)
    }
}
