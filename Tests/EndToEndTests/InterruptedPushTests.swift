import Foundation
import TestWorld
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT, SIGTERM and SIGHUP sent with kill(2) to a real `ecrpush push` in the middle of a cold push: it stops,
/// removes its temporary directory, tags nothing and exits 128 + the signal. A push killed outright (SIGKILL)
/// leaves its directory, and the next push removes it, never a running push's.
///
/// The push goes to a registry of the test's own that it freezes (SIGSTOP): the export then holds a compressed layer
/// and waits for an upload that cannot progress, so the signal always lands mid-push, whatever the machine's speed.
@Suite struct InterruptedPushTests {
    /// moto in front of a registry this test may freeze; the shared dockerd.
    struct FreezableWorld {
        let registry: LoopbackRegistry
        let docker: DockerDaemon
        let moto: MotoWorld

        var environment: [String: String] {
            moto.containeriseEnvironment.merging(["DOCKER_HOST": docker.host]) { $1 }
        }

        static func start() async throws -> FreezableWorld {
            let registry = try await LoopbackRegistry.start()
            let docker = try await DockerDaemon.shared()
            return FreezableWorld(registry: registry, docker: docker, moto: try await MotoWorld.start(registry: registry))
        }

        func stop() async {
            registry.resume()
            moto.stop()
            await registry.stop()
        }
    }

    /// busybox:local and two layers of 4 MiB of random bytes, built once per test process with `ecrpush build`.
    static let layeredImage = Task<String, any Error> {
        let docker = try await DockerDaemon.shared()
        let context = TemporaryDirectory()
        for name in ["a", "b"] {
            var bytes = [UInt8](repeating: 0, count: 4 << 20)
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = generator.next() }
            try Data(bytes).write(to: context.appending(name))
        }
        let name = BuildAndPushTests.uniqueName("interrupted") + ":layers"
        try "FROM \(DockerDaemon.baseImage)\nCOPY a /a\nCOPY b /b\n".write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let build = try await ECRPushCLI.run(["build", context.path, "-t", name, "-q"], environment: ["DOCKER_HOST": docker.host])
        guard build.status == 0 else { throw WorldError.commandFailed(command: "ecrpush build", status: build.status, output: build.combinedText) }
        return name
    }

    static func exportDirectories(in parent: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []).filter { $0.hasPrefix("ecrpush-export.") }
            .map { "\(parent)/\($0)" }
    }

    /// An export directory under `parent` that already holds a (compressed layer) file, other than `excluded`.
    static func exportDirectoryHoldingAFile(in parent: String, except excluded: Set<String> = []) -> String? {
        exportDirectories(in: parent).first { path in
            !excluded.contains(path) && !((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).isEmpty
        }
    }

    static func signalName(_ signal: Int32) -> String {
        [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][signal] ?? "signal \(signal)"
    }

    /// The image's names for ecrpush's relay (`127.0.0.1:<port>/…`), sorted; only those for `repository` when given.
    /// nil when the Engine could not say.
    static func relayNames(_ engine: BuildAndPushTests.World, _ image: String, repository: String? = nil) async -> [String]? {
        (try? await EngineTagsAheadTests.repoTags(engine, image))?.filter { name in
            name.hasPrefix("127.0.0.1:") && repository.map { name.contains("/\($0):") } ?? true
        }.sorted()
    }

    /// `push` held mid-upload by the frozen registry, with at most one layer waiting on disk.
    static func pushArguments(_ image: String, repository: String) -> [String] {
        ["push", image, "--repository", repository, "--tag", "v1", "--create-repository", "--jobs", "1", "--temp-space-limit", "0"]
    }

    /// Sends `signal` and waits for ecrpush to say it is stopping. Then, unless `frozen` (the push must stop while
    /// the registry still answers nothing), lets the registry answer again: a push that went on instead of stopping
    /// would now finish and tag v1.
    static func interrupt(
        _ push: BackgroundECRPush, with signal: Int32, world: FreezableWorld, frozen: Bool = false
    ) async -> BackgroundProcess.Ending? {
        push.send(signal)
        let notice = "ecrpush: \(signalName(signal)): stopping the push"
        let noticed = await eventually(timeout: .seconds(30)) { push.stderrText.contains(notice) ? true : nil }
        #expect(noticed == true, "\(push.stderrText)")
        if !frozen { world.registry.resume() }
        let ending = await push.ending(timeout: .seconds(30))
        world.registry.resume()
        return ending
    }

    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalCancelsAColdPushRemovesItsFilesAndTagsNothing(signal: Int32) async throws {
        let world = try await FreezableWorld.start()
        let image = try await Self.layeredImage.value
        let scratch = TemporaryDirectory(prefix: "ecrtmp")
        let repository = BuildAndPushTests.uniqueName("interrupted")
        try world.registry.pause()
        defer { world.registry.resume() }
        let push = try BackgroundECRPush(
            Self.pushArguments(image, repository: repository), environment: world.environment.merging(["TMPDIR": scratch.path]) { $1 })
        let directory = try #require(
            await eventually(timeout: .seconds(120)) { Self.exportDirectoryHoldingAFile(in: scratch.path) }, "\(push.stderrText)")

        let signalled = ContinuousClock.now
        let ending = await Self.interrupt(push, with: signal, world: world)
        let stderr = push.stderrText
        #expect(ending == .exited(128 + signal), "\(stderr)")
        // Stopped by its cancellation (the forced exit after 3 s says "did not stop"), well within a few seconds.
        let stopped = try #require(await push.end(timeout: .seconds(1)))
        #expect(stopped.at - signalled < .seconds(10))
        #expect(
            stderr.contains("ecrpush: interrupted (\(Self.signalName(signal))): push cancelled, temporary files removed; nothing was tagged"),
            "\(stderr)")
        #expect(!stderr.contains("error:"), "the cancellation is no error: \(stderr)")
        #expect(push.stdoutText.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "nothing of ecrpush's is left in TMPDIR")
        #expect(try await world.registry.manifestStatus(repository: repository, reference: "v1") == 404, "v1 was not tagged")
        await world.stop()
    }

    /// "<pid>-<start time>-<pid namespace>", as ecrpush names its export directories after their maker.
    static func ownerComponent(pid: Int32) throws -> String {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = try #require(stat.split(separator: ")").last?.split(separator: " "))
        let namespace = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid")
        return "\(pid)-\(fields[19])-\(namespace.filter(\.isNumber))"
    }

    @Test func aPushKilledOutrightLeavesItsDirectoryAndTheNextPushRemovesItButNoLivePushs() async throws {
        let world = try await FreezableWorld.start()
        let shared = try await BuildAndPushTests.World.start()
        defer { shared.moto.stop() }
        let image = try await Self.layeredImage.value
        let scratch = TemporaryDirectory(prefix: "ecrtmp")
        let environment = world.environment.merging(["TMPDIR": scratch.path]) { $1 }
        let arguments = Self.pushArguments(image, repository: BuildAndPushTests.uniqueName("killed"))
        try world.registry.pause()
        defer { world.registry.resume() }

        // Two pushes held by the frozen registry, both started before either dies (each push removes what it finds
        // abandoned when it starts); then one of them killed outright.
        let killed = try BackgroundECRPush(arguments, environment: environment)
        let leftover = try #require(
            await eventually(timeout: .seconds(120)) { Self.exportDirectoryHoldingAFile(in: scratch.path) }, "\(killed.stderrText)")
        let running = try BackgroundECRPush(arguments, environment: environment)
        let live = try #require(
            await eventually(timeout: .seconds(120)) { Self.exportDirectoryHoldingAFile(in: scratch.path, except: [leftover]) },
            "\(running.stderrText)")
        killed.send(SIGKILL)
        #expect(await killed.ending(timeout: .seconds(30)) == .killed(signal: SIGKILL))
        #expect(FileManager.default.fileExists(atPath: leftover), "nothing can clean up after SIGKILL")
        // And a directory named after this test process, alive too.
        let mine = scratch.path + "/ecrpush-export.\(try Self.ownerComponent(pid: getpid())).tested"
        try FileManager.default.createDirectory(atPath: mine, withIntermediateDirectories: false)

        let next = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", BuildAndPushTests.uniqueName("after-kill"), "--tag", "v1",
                "--create-repository"
            ],
            environment: shared.environment.merging(["TMPDIR": scratch.path]) { $1 })
        try #require(next.status == 0, "\(next.combinedText)")
        #expect(!FileManager.default.fileExists(atPath: leftover), "the killed push's directory is removed")
        #expect(next.stderrText.contains("Removed \(leftover)"), "\(next.stderrText)")
        #expect(FileManager.default.fileExists(atPath: live), "a running push keeps its directory")
        #expect(FileManager.default.fileExists(atPath: mine), "so does any live process's")

        // Stopped while the registry still answers nothing: the transfers are aborted, not waited for.
        #expect(await Self.interrupt(running, with: SIGTERM, world: world, frozen: true) == .exited(143), "\(running.stderrText)")
        #expect(running.stderrText.contains("ecrpush: interrupted (SIGTERM): push cancelled, temporary files removed; nothing was tagged"))
        try FileManager.default.removeItem(atPath: mine)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
        await world.stop()
    }

    /// A second signal right behind the first (SIGINT, then SIGTERM) exits at once, before the push's own cleanup can
    /// run: the names the image was given for ecrpush's relay are removed on the way out all the same. The registry is
    /// frozen, so the push is still on its way to it when the signals come.
    @Test func aSecondSignalStillRemovesTheRelaysNames() async throws {
        let world = try await FreezableWorld.start()
        let engine = BuildAndPushTests.World(registry: world.registry, docker: world.docker, moto: world.moto)
        let image = try await EngineTagsAheadTests.taggedImage(engine, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("forced-exit-relay")
        let relayNames = { await Self.relayNames(engine, image.id, repository: repository) }
        try world.registry.pause()
        defer { world.registry.resume() }
        let push = try BackgroundECRPush(
            ["push", image.tag, "--repository", repository, "--tag", "v1", "--create-repository", "--transport", "daemon"],
            environment: world.environment)
        let named = await eventually(timeout: .seconds(120)) { await relayNames()?.isEmpty == false ? true : nil }
        try #require(named == true, "the image was never named for the relay: \(push.stderrText)")

        push.send(SIGINT)
        push.send(SIGTERM)
        let ending = await push.ending(timeout: .seconds(30))
        #expect(ending == .exited(130) || ending == .exited(143), "\(push.stderrText)")
        #expect(push.stderrText.contains("interrupted again"), "\(push.stderrText)")
        #expect(!push.stderrText.contains("may still name"), "\(push.stderrText)")
        #expect(await relayNames() == [], "the relay's names are gone")
        #expect(try await EngineTagsAheadTests.repoTags(engine, image.id) == [image.tag])
        await world.stop()
    }

    /// A push killed outright (SIGKILL) while the Engine pushes through its relay leaves the image's name for the relay;
    /// the next push removes it, and says so, by the maker the name carries. On a dockerd of the test's own: every
    /// push sweeps, so a push of another test on the shared one could take the name first.
    @Test func aPushKilledOutrightLeavesTheRelaysNameAndTheNextPushRemovesIt() async throws {
        let docker = try await DockerDaemon.start()
        let registry = try await LoopbackRegistry.start()
        let moto = try await MotoWorld.start(registry: registry)
        let world = FreezableWorld(registry: registry, docker: docker, moto: moto)
        let engine = BuildAndPushTests.World(registry: registry, docker: docker, moto: moto)
        let image = try await EngineTagsAheadTests.taggedImage(engine, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("killed-relay")
        let relayNames = { await Self.relayNames(engine, image.id) }
        try registry.pause()
        let killed = try BackgroundECRPush(
            ["push", image.tag, "--repository", repository, "--tag", "v1", "--create-repository", "--transport", "daemon"],
            environment: world.environment)
        let named = try #require(
            await eventually(timeout: .seconds(120)) { () async -> [String]? in
                guard let names = await relayNames(), !names.isEmpty else { return nil }
                return names
            }, "the image was never named for the relay: \(killed.stderrText)")
        killed.send(SIGKILL)
        #expect(await killed.ending(timeout: .seconds(30)) == .killed(signal: SIGKILL))
        registry.resume()
        #expect(named.count == 1 && named[0].contains("/ecrpush-relay.\(killed.pid)-") && named[0].hasSuffix("/\(repository):v1"), "\(named)")
        #expect(await relayNames() == named, "nothing can clean up after SIGKILL")

        let next = try await ECRPushCLI.run(
            ["push", image.tag, "--repository", repository + "-next", "--tag", "v1", "--create-repository", "--transport", "daemon"],
            environment: world.environment)
        try #require(next.status == 0, "\(next.combinedText)")
        #expect(
            next.stderrText.contains("Removed \(named[0]), the name an ecrpush (pid \(killed.pid)) that was killed gave an image for its relay"),
            "\(next.stderrText)")
        #expect(await relayNames() == [], "the killed push's name is gone, and the next push removed its own")
        #expect(try await EngineTagsAheadTests.repoTags(engine, image.id) == [image.tag])
        await world.stop()
        await docker.stop()
    }

    /// A push whose output loses its reader (`… 2>&1 | head`, a log collector that dies) stops as SIGPIPE would stop
    /// it, but cleans up first. ecrpush ignores SIGPIPE (as the relay's listener, swift-nio, made it do anyway), so
    /// the next write fails with EPIPE instead; that write used to trap (exit 132), leaving the relay's name and the
    /// temporary files, and a push without the relay died of SIGPIPE with its export's directory left.
    @Test(arguments: ["daemon", "registry"])
    func aPushWhoseOutputLostItsReaderStopsAndLeavesNothing(transport: String) async throws {
        let world = try await FreezableWorld.start()
        let engine = BuildAndPushTests.World(registry: world.registry, docker: world.docker, moto: world.moto)
        let image = try await EngineTagsAheadTests.taggedImage(engine, megabytes: 1)
        let repository = BuildAndPushTests.uniqueName("lost-reader")
        let relayNames = { await Self.relayNames(engine, image.id, repository: repository) }
        let scratch = TemporaryDirectory(prefix: "ecrtmp")
        let pipe = TemporaryDirectory(prefix: "ecrpipe")
        let gate = pipe.path + "/gate"
        try #require(mkfifo(gate, 0o600) == 0)
        try world.registry.pause()
        defer { world.registry.resume() }
        // The reader takes the first byte, then holds the pipe open until the gate opens, and goes.
        let push = try BackgroundECRPush(
            Self.pushArguments(image.tag, repository: repository) + ["--transport", transport],
            environment: world.environment.merging(["TMPDIR": scratch.path]) { $1 },
            launcher: ["/bin/bash", "-c", "set -o pipefail; \"$0\" \"$@\" 2>&1 | { head -c 1 > \(pipe.path)/first; read -r _ < \(gate); }"])
        // Held by the frozen registry, with something to clean up: the relay's name, or a compressed layer on disk.
        let underWay = await eventually(timeout: .seconds(120)) { () async -> Bool? in
            if transport == "daemon" { return await relayNames()?.isEmpty == false ? true : nil }
            return Self.exportDirectoryHoldingAFile(in: scratch.path) != nil ? true : nil
        }
        try #require(underWay == true, "the push never got under way")

        let writer = open(gate, O_WRONLY)
        try #require(writer >= 0)
        _ = "go\n".withCString { Glibc.write(writer, $0, 3) }
        close(writer)
        try await Task.sleep(for: .milliseconds(200))  // the reader is gone: the push's next line meets EPIPE
        world.registry.resume()
        let ending = await push.ending(timeout: .seconds(60))
        #expect(ending == .exited(141), "stopped as for SIGPIPE, after its cleanup")
        #expect(await relayNames() == [], "the relay's names are gone")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "no temporary files left")
        await world.stop()
    }

    /// Cancelling `POST /build` closes the Engine connection, and the Engine then stops the build: the container
    /// of the classic builder's RUN step in progress is killed and removed, and nothing is tagged.
    @Test func sigintStopsTheDockerBuildOfABuildAndPush() async throws {
        let world = try await BuildAndPushTests.World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("interrupted-build")
        let context = TemporaryDirectory()
        try "FROM \(DockerDaemon.baseImage)\nLABEL ecrpush.test=\"\(repository)\"\nRUN sleep 300\n"
            .write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let build = try BackgroundECRPush(
            ["build-and-push", context.path, "--repository", repository, "--tag", "v1", "--create-repository", "--builder", "classic"],
            environment: world.environment)
        let container = try #require(
            await eventually(timeout: .seconds(120)) { () -> String? in
                guard let match = build.stderrText.firstMatch(of: /Running in ([0-9a-f]{12})/) else { return nil }
                return String(match.1)
            }, "\(build.stderrText)")

        build.send(SIGINT)
        let ending = await build.ending(timeout: .seconds(30))
        #expect(ending == .exited(130), "\(build.stderrText)")
        #expect(
            build.stderrText.contains("ecrpush: interrupted (SIGINT): build-and-push cancelled, temporary files removed; nothing was tagged"),
            "\(build.stderrText)")
        #expect(build.stderrText.contains("Removed repository \(repository), which this run created"), "\(build.stderrText)")
        let gone = await eventually(timeout: .seconds(60)) { () -> Bool? in
            let listed = try? await world.docker.docker(["ps", "-a", "-q", "--filter", "id=\(container)"])
            return listed.map { $0.status == 0 && $0.stdoutText.isEmpty ? true : nil } ?? nil
        }
        #expect(gone == true, "the Engine stopped the build and removed its RUN container \(container)")
        let tagged = try await world.docker.docker(["image", "inspect", "\(world.registry.hostPort)/\(repository):v1"])
        #expect(tagged.status != 0, "the build never finished, so it tagged nothing")
        #expect(try await world.registry.manifestStatus(repository: repository, reference: "v1") == 404)
    }

    /// The same with BuildKit: closing the connection cancels the solve, and the RUN's process (BuildKit runs it
    /// itself, not as an Engine container) ends; the build session closes with it.
    @Test func sigintStopsABuildKitBuild() async throws {
        let world = try await BuildAndPushTests.World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("interrupted-bk")
        let context = TemporaryDirectory()
        // The repository's name in the RUN's command line tells its process from any other test's.
        try "FROM \(DockerDaemon.baseImage)\nRUN sleep 300 || echo \(repository)\n".write(
            toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let build = try BackgroundECRPush(
            ["build-and-push", context.path, "--repository", repository, "--tag", "v1", "--create-repository", "--builder", "buildkit"],
            environment: world.environment)
        let running = await eventually(timeout: .seconds(120)) { () -> Bool? in
            let found = try? await runProcess("pgrep", ["-f", "echo \(repository)"])
            return found?.status == 0 ? true : nil
        }
        try #require(running == true, "\(build.stderrText)")
        #expect(build.stderrText.contains("RUN sleep 300"), "plain progress names the step: \(build.stderrText)")

        build.send(SIGINT)
        let ending = await build.ending(timeout: .seconds(30))
        #expect(ending == .exited(130), "\(build.stderrText)")
        #expect(
            build.stderrText.contains("ecrpush: interrupted (SIGINT): build-and-push cancelled, temporary files removed; nothing was tagged"),
            "\(build.stderrText)")
        #expect(build.stderrText.contains("Removed repository \(repository), which this run created"), "\(build.stderrText)")
        let gone = await eventually(timeout: .seconds(60)) { () -> Bool? in
            let found = try? await runProcess("pgrep", ["-f", "echo \(repository)"])
            return found?.status == 1 ? true : nil
        }
        #expect(gone == true, "the Engine stopped the RUN step")
        #expect(try await world.registry.manifestStatus(repository: repository, reference: "v1") == 404)
    }
}
