import Foundation
import Hashing
import TestWorld
import Testing

@testable import DockerEngine

/// Against a real private dockerd (TestWorld's, with `busybox:local`). Containers run with `--network none`.
@Suite(.serialized) struct DockerIntegrationTests {
    static func daemonAndClient() async throws -> (DockerDaemon, DockerClient) {
        let daemon = try await DockerDaemon.shared()
        return (daemon, DockerClient(socketPath: daemon.socketPath))
    }

    /// Runs `script` in a throwaway container of `image` and returns its output.
    static func runInImage(_ daemon: DockerDaemon, _ image: String, _ script: String) async throws -> String {
        let result = try await daemon.docker(["run", "--rm", "--network", "none", image, "sh", "-c", script])
        guard result.status == 0 else { throw TreeError("docker run \(image) failed: \(result.combinedText)") }
        return result.stdoutText
    }

    static let longDirectory = String(repeating: "d", count: 70) + "/" + String(repeating: "e", count: 70)
    static let longFile = longDirectory + "/" + String(repeating: "f", count: 120) + ".txt"

    /// A context with a rich .dockerignore and a multi-stage Dockerfile that copies the context to /ctx.
    static func makeAppContext() throws -> TemporaryDirectory {
        let context = TemporaryDirectory(prefix: "dkapp")
        let tree = FileTree(context.path)
        try tree.file(
            "Dockerfile",
            """
            FROM busybox:local AS base
            ARG GREETING=unset
            RUN echo "$GREETING" > /greeting
            COPY . /ctx/
            FROM base AS extra
            RUN touch /extra-stage
            """)
        // Ignoring the Dockerfile itself must not break the build: it is still sent, and the daemon drops it.
        try tree.file(".dockerignore", "# build inputs only\nsecret.txt\nlogs\n!logs/keep.log\nDockerfile\n**/*.tmp\n")
        try tree.file("app.txt", "app\n")
        try tree.file("secret.txt", "do not ship\n")
        try tree.file("logs/keep.log", "keep\n")
        try tree.file("logs/drop.log", "drop\n")
        try tree.file("src/cache.tmp", "tmp\n")
        try tree.file("src/main.c", "int main(void) { return 0; }\n")
        try tree.file("run.sh", "#!/bin/sh\necho run\n", mode: 0o750)
        try tree.file(longFile, "long\n")
        try tree.directory("empty")
        try tree.symlink("link", to: "app.txt")
        return context
    }

    @Test func pingAndVersionNegotiate() async throws {
        let (_, client) = try await Self.daemonAndClient()
        let ping = try await client.ping()
        let daemonVersion = try #require(ping.apiVersion)
        #expect(ping.osType == "linux")
        #expect(ping.negotiatedVersion == DockerClient.negotiate(daemonVersion: daemonVersion))
        let version = try await client.version()
        #expect(version.apiVersion == daemonVersion)
        #expect(version.os == "linux")
        #expect(!version.version.isEmpty)
    }

    @Test func buildWithArgsTargetLabelsAndIgnoredFiles() async throws {
        let (daemon, client) = try await Self.daemonAndClient()
        let context = try Self.makeAppContext()
        let events = Locked<[BuildEvent]>([])
        let options = BuildOptions(
            tags: ["dk-it/app:1", "dk-it/app:latest"], buildArgs: ["GREETING": "hello from args"],
            labels: ["org.example.built-by": "ecrpush-tests"], target: "base", networkMode: "none")
        let result = try await client.build(context: BuildContext(directory: context.path), options: options) { event in
            events.withValue { $0.append(event) }
        }
        #expect(result.imageID.hasPrefix("sha256:") && result.imageID.count == 71)
        #expect(events.current.contains(.imageID(result.imageID)))
        #expect(events.current.contains { if case .output(let text) = $0 { return text.contains("Step 1/") } else { return false } })

        let image = try #require(try await client.inspectImage("dk-it/app:1"))
        #expect(image.id == result.imageID)
        #expect(Set(image.repoTags) == ["dk-it/app:1", "dk-it/app:latest"])
        #expect(image.labels["org.example.built-by"] == "ecrpush-tests")
        #expect(image.layers.count >= 3)
        #expect(image.size > 0)

        let output = try await Self.runInImage(
            daemon, "dk-it/app:1",
            """
            cat /greeting; cd /ctx && find . | sort; stat -c '%a %n' run.sh; readlink link; \
            test -e /extra-stage && echo EXTRA || echo NO-EXTRA
            """)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.first == "hello from args")
        let listed = Set(lines.filter { $0.hasPrefix(".") })
        #expect(
            listed == [
                ".", "./.dockerignore", "./app.txt", "./empty", "./link", "./logs", "./logs/keep.log", "./run.sh",
                "./src", "./src/main.c", "./" + String(Self.longDirectory.split(separator: "/")[0]),
                "./" + Self.longDirectory, "./" + Self.longFile
            ], "\(output)")
        #expect(lines.contains("750 run.sh"))
        #expect(lines.contains("app.txt"))
        #expect(lines.last == "NO-EXTRA")
    }

    /// The same context built by the docker CLI's own (classic) builder: both send the same files.
    @Test func contextMatchesTheDockerCLIs() async throws {
        let (daemon, client) = try await Self.daemonAndClient()
        let context = try Self.makeAppContext()
        let tree = FileTree(context.path)
        try tree.file(
            ".dockerignore",
            """
            */temp*
            */*/temp*
            temp?
            **/*.go
            *.md
            !README*.md
            README-secret.md
            vendor
            !vendor/keep/**
            /abs.txt
            ./dot.txt
            """)
        for path in [
            "a/temporary.txt", "a/b/temp.txt", "a/b/c/temp.txt", "tempa", "temp", "main.go", "x/y.go", "NOTES.md",
            "README.md", "README-secret.md", "README-public.md", "vendor/drop/x", "vendor/keep/y", "vendor/keep/z/w",
            "abs.txt", "dot.txt", "docs/guide.md"
        ] {
            try tree.file(path, path)
        }
        _ = try await client.build(
            context: BuildContext(directory: context.path),
            options: BuildOptions(tags: ["dk-it/ours:1"], networkMode: "none"))
        // DOCKER_BUILDKIT=0: the CLI's classic builder walks and tars the context itself, as we do.
        try await runProcess(
            "docker", ["-H", daemon.host, "build", "-q", "--network", "none", "-t", "dk-it/theirs:1", context.path],
            environment: daemon.environment.merging(["DOCKER_BUILDKIT": "0"]) { $1 }
        )
        .requireSuccess(environmentNote: "docker build (CLI)")
        let listing = "cd /ctx && find . | sort"
        let ours = try await Self.runInImage(daemon, "dk-it/ours:1", listing)
        let theirs = try await Self.runInImage(daemon, "dk-it/theirs:1", listing)
        #expect(ours == theirs)
        #expect(ours.contains("./README-public.md") && !ours.contains("README-secret") && ours.contains("./vendor/keep/z/w"))
        for gone in ["vendor/drop", "a/temporary.txt", "a/b/temp.txt", "tempa", "main.go", "x/y.go", "NOTES.md", "./abs.txt", "./dot.txt"] {
            #expect(!ours.contains(gone), "\(gone)")
        }
        #expect(ours.contains("./temp\n") && ours.contains("./a/b/c/temp.txt") && ours.contains("./docs/guide.md"))
    }

    @Test func dockerfileOutsideTheContextLeavesNoTrace() async throws {
        let (daemon, client) = try await Self.daemonAndClient()
        let context = TemporaryDirectory(prefix: "dkctx")
        let elsewhere = TemporaryDirectory(prefix: "dkdf")
        try FileTree(context.path).file("only.txt", "only\n")
        let dockerfile = try FileTree(elsewhere.path).file("Custom.dockerfile", "FROM busybox:local\nCOPY . /ctx/\n")
        _ = try await client.build(
            context: BuildContext(directory: context.path, dockerfile: dockerfile),
            options: BuildOptions(tags: ["dk-it/outside:1"]))
        let output = try await Self.runInImage(daemon, "dk-it/outside:1", "cd /ctx && find . | sort")
        #expect(output == ".\n./only.txt\n")
    }

    /// A context bigger than any buffer: the streamed tar arrives whole (the daemon checks its length and blocks).
    @Test func largeFilesStreamIntact() async throws {
        let (daemon, client) = try await Self.daemonAndClient()
        let context = TemporaryDirectory(prefix: "dkbig")
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 24 << 20 | 123)
        for index in stride(from: 0, to: bytes.count, by: 8) {
            let word = generator.next()
            for offset in 0..<min(8, bytes.count - index) { bytes[index + offset] = UInt8(truncatingIfNeeded: word >> (offset * 8)) }
        }
        let tree = FileTree(context.path)
        try tree.file("big.bin", bytes)
        try tree.file("Dockerfile", "FROM busybox:local\nCOPY big.bin /big.bin\n")
        _ = try await client.build(context: BuildContext(directory: context.path), options: BuildOptions(tags: ["dk-it/big:1"]))
        let output = try await Self.runInImage(daemon, "dk-it/big:1", "sha256sum /big.bin")
        #expect(output.hasPrefix(SHA256.hash(bytes).hex + " "), "\(output)")
        try await client.removeImage("dk-it/big:1", force: true)
    }

    @Test func failingRunStepSurfacesTheDaemonsMessage() async throws {
        let (_, client) = try await Self.daemonAndClient()
        let context = TemporaryDirectory(prefix: "dkfail")
        try FileTree(context.path).file("Dockerfile", "FROM busybox:local\nRUN echo about to fail && exit 3\n")
        let events = Locked<[BuildEvent]>([])
        do {
            _ = try await client.build(
                context: BuildContext(directory: context.path),
                options: BuildOptions(tags: ["dk-it/fails:1"], networkMode: "none")
            ) { event in
                events.withValue { $0.append(event) }
            }
            Issue.record("the build should have failed")
        } catch let error as DockerError {
            guard case .buildFailed(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.contains("returned a non-zero code: 3"), "\(message)")
            #expect(error.description.contains("non-zero code: 3"))
        }
        #expect(events.current.contains(.output("about to fail\n")))
        #expect(try await client.inspectImage("dk-it/fails:1") == nil)

        // An unknown base image is also a build failure with the daemon's words.
        try FileTree(context.path).file("Dockerfile", "FROM dk-it/no-such-base:404\n")
        await #expect(throws: DockerError.self) {
            _ = try await client.build(context: BuildContext(directory: context.path), options: BuildOptions(networkMode: "none"))
        }
    }

    @Test func missingDockerfileIsReportedBeforeSending() async throws {
        let (_, client) = try await Self.daemonAndClient()
        let context = TemporaryDirectory(prefix: "dknodf")
        await #expect(throws: DockerError.dockerfileMissing(path: context.path + "/Dockerfile")) {
            _ = try await client.build(context: BuildContext(directory: context.path))
        }
        await #expect(throws: DockerError.invalidReference("Bad:tag", reason: "repository names must be lowercase")) {
            _ = try await client.build(context: BuildContext(directory: context.path), options: BuildOptions(tags: ["Bad:tag"]))
        }
    }

    @Test func inspectTagAndRemove() async throws {
        let (_, client) = try await Self.daemonAndClient()
        let base = try #require(try await client.inspectImage(DockerDaemon.baseImage))
        #expect(base.repoTags.contains(DockerDaemon.baseImage))
        #expect(try await client.inspectImage(base.id)?.id == base.id)

        try await client.tag(source: base.id, repository: "dk-it/tagged", tag: "v1")
        let tagged = try #require(try await client.inspectImage("dk-it/tagged:v1"))
        #expect(tagged.id == base.id)
        #expect(tagged.repoTags.contains("dk-it/tagged:v1"))

        try await client.removeImage("dk-it/tagged:v1")
        #expect(try await client.inspectImage("dk-it/tagged:v1") == nil)
        #expect(try await client.inspectImage(DockerDaemon.baseImage) != nil)  // untagging left the image

        #expect(try await client.inspectImage("dk-it/never:1") == nil)
        #expect(try await client.requireImage(base.id).id == base.id)
        await #expect(throws: DockerError.imageNotFound("dk-it/never:1")) { _ = try await client.requireImage("dk-it/never:1") }
        await #expect(throws: DockerError.imageNotFound("dk-it/never:1")) {
            try await client.tag(source: "dk-it/never:1", repository: "dk-it/x", tag: "1")
        }
        await #expect(throws: DockerError.imageNotFound("dk-it/never:1")) { try await client.removeImage("dk-it/never:1") }
        await #expect(throws: DockerError.self) { try await client.tag(source: base.id, repository: "Bad/Name", tag: "1") }
        await #expect(throws: DockerError.self) { try await client.tag(source: base.id, repository: "dk-it/x", tag: "-bad") }
    }

    @Test func pushToALoopbackRegistry() async throws {
        let (_, client) = try await Self.daemonAndClient()
        let registry = try await LoopbackRegistry.shared()
        let repository = "\(registry.hostPort)/dk-it/busybox"
        try await client.tag(source: DockerDaemon.baseImage, repository: repository, tag: "1")

        let wrong = RegistryAuth(username: registry.username, password: "wrong-password", serverAddress: registry.hostPort)
        do {
            _ = try await client.push(repository: repository, tag: "1", auth: wrong)
            Issue.record("a push with a wrong password should fail")
        } catch let error as DockerError {
            guard case .pushFailed(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.lowercased().contains("auth"), "\(message)")
            #expect(!error.description.contains("wrong-password"))
        }

        let auth = RegistryAuth(username: registry.username, password: registry.password, serverAddress: registry.hostPort)
        let events = Locked<[PushEvent]>([])
        let result = try await client.push(repository: repository, tag: "1", auth: auth) { event in
            events.withValue { $0.append(event) }
        }
        #expect(result.tag == "1")
        #expect(result.digest.hasPrefix("sha256:") && result.digest.count == 71)
        #expect(result.size > 0)
        // A blob another repository of the same registry holds is mounted rather than uploaded.
        #expect(
            events.current.contains {
                switch $0.status {
                case .pushed, .alreadyExists, .mounted: return true
                default: return false
                }
            })
        #expect(events.current.last?.result == result)

        // The registry itself serves that manifest digest (credentials go to curl on stdin, not argv).
        let curl = try await runProcess(
            "curl",
            [
                "-sS", "-K", "-", "-o", "/dev/null", "-D", "-",
                "-H", "Accept: application/vnd.docker.distribution.manifest.v2+json",
                "\(registry.url)/v2/dk-it/busybox/manifests/1"
            ],
            stdin: Data("user = \"\(registry.username):\(registry.password)\"\n".utf8))
        #expect(curl.stdoutText.lowercased().contains("docker-content-digest: \(result.digest)"), "\(curl.combinedText)")

        await #expect(throws: DockerError.imageNotFound("\(repository):never")) {
            _ = try await client.push(repository: repository, tag: "never", auth: auth)
        }
    }

    @Test func exportStreamsADockerSaveTar() async throws {
        let (_, client) = try await Self.daemonAndClient()
        let collected = Locked<[UInt8]>([])
        try await client.exportImage([DockerDaemon.baseImage]) { chunk in
            collected.withValue { $0.append(contentsOf: chunk) }
        }
        let work = TemporaryDirectory(prefix: "dkexp")
        let path = work.path + "/save.tar"
        try Data(collected.current).write(to: URL(fileURLWithPath: path))
        let names = try await run("tar", ["-tf", path])
        #expect(names.split(separator: "\n").contains("manifest.json"), "\(names)")

        // A failing sink stops the export and its own error comes back.
        struct SinkFull: Error {}
        await #expect(throws: SinkFull.self) {
            try await client.exportImage([DockerDaemon.baseImage]) { _ in throw SinkFull() }
        }
        await #expect(throws: DockerError.imageNotFound("dk-it/never:1")) {
            try await client.exportImage(["dk-it/never:1"]) { _ in }
        }
    }

    /// DOCKER_HOST=tcp://host:port speaks plain HTTP: a loopback forwarder stands in for a TCP-listening daemon.
    @Test func tcpDockerHostReachesTheDaemon() async throws {
        let (daemon, _) = try await Self.daemonAndClient()
        let forwarder = try await TCPForwarder.start(to: daemon.socketPath)
        let port = forwarder.port

        let client = try DockerClient(environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(port)"])
        let ping = try await client.ping()
        #expect(ping.osType == "linux")
        #expect(try await client.inspectImage(DockerDaemon.baseImage) != nil)
        let pinned = try DockerClient(environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(port)", "DOCKER_API_VERSION": "1.40"])
        #expect(try await pinned.url("/version").hasPrefix("http://127.0.0.1:\(port)/v1.40/"))
        #expect(try await pinned.version().os == "linux")

        // Nothing listening on a TCP port: unreachable, naming the host.
        forwarder.stop()
        do {
            _ = try await DockerClient(environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(port)"]).ping()
            Issue.record("ping should fail once the forwarder is gone")
        } catch let error as DockerError {
            guard case .daemonUnreachable(let host, _) = error else { Issue.record("\(error)"); return }
            #expect(host == "tcp://127.0.0.1:\(port)")
        }
    }

    @Test func missingOrDeadSocketIsDaemonUnreachable() async throws {
        let missing = DockerClient(socketPath: "/tmp/dk-nonexistent-\(getpid())/docker.sock")
        do {
            try await missing.ping()
            Issue.record("ping should fail")
        } catch let error as DockerError {
            guard case .daemonUnreachable(let host, _) = error else { Issue.record("\(error)"); return }
            #expect(host.hasSuffix("/docker.sock"))
            #expect(error.description.contains("Is the Docker daemon running?"))
            #expect(error.description.contains("DOCKER_HOST"))
        }
        // A build reaches for the daemon before walking its context, and fails the same way.
        let context = TemporaryDirectory(prefix: "dkdead")
        try FileTree(context.path).file("Dockerfile", "FROM busybox:local\n")
        do {
            _ = try await missing.build(context: BuildContext(directory: context.path))
            Issue.record("build should fail")
        } catch let error as DockerError {
            guard case .daemonUnreachable = error else { Issue.record("\(error)"); return }
        }

        let dead = context.path + "/dead.sock"
        _ = try await run("python3", ["-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", dead])
        do {
            _ = try await DockerClient(socketPath: dead).version()
            Issue.record("version should fail")
        } catch let error as DockerError {
            guard case .daemonUnreachable(_, let detail) = error else { Issue.record("\(error)"); return }
            #expect(detail.contains("refused"))
        }
    }
}

extension ProcessResult {
    @discardableResult
    func requireSuccess(environmentNote: String) throws -> ProcessResult {
        guard status == 0 else { throw TreeError("\(environmentNote) exited \(status): \(combinedText)") }
        return self
    }
}
