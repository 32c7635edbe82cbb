import BuildKitSession
import DockerEngine
import Foundation
import Synchronization
import TestWorld
import Testing

@testable import ECRPushKit

/// BuildKit builds through the Engine (`POST /build?version=2`) on TestWorld's dockerd (Debian's 20.10, no bridge:
/// RUN steps get no network, as the Engine gives its containers).
@Suite(.serialized) struct BuildKitBuildTests {
    final class Recorder: Sendable {
        let events = Mutex<[WorkflowEvent]>([])

        func record(_ event: WorkflowEvent) { events.withLock { $0.append(event) } }

        var plainLines: [String] {
            events.withLock { events in events.flatMap { if case .buildKit(let update) = $0 { return update.lines } else { return [] } } }
        }

        var sessionEvents: [SessionEvent] {
            events.withLock { events in events.compactMap { if case .session(let event) = $0 { return event } else { return nil } } }
        }

        var classicOutput: String {
            events.withLock { events in
                events.map { if case .build(.output(let text)) = $0 { return text } else { return "" } }.joined()
            }
        }
    }

    static func builder() async throws -> (DockerDaemon, ImageBuilder) {
        let daemon = try await DockerDaemon.shared()
        return (daemon, ImageBuilder(docker: DockerClient(socketPath: daemon.socketPath), environment: [:]))
    }

    static func context(_ files: [String: String]) throws -> TemporaryDirectory {
        let directory = TemporaryDirectory(prefix: "bkctx")
        for (name, text) in files {
            let path = directory.path + "/" + name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        return directory
    }

    static func run(_ daemon: DockerDaemon, _ image: String, _ script: String) async throws -> String {
        let result = try await daemon.docker(["run", "--rm", "--network", "none", image, "sh", "-c", script])
        guard result.status == 0 else { throw WorldError.commandFailed(command: "docker run", status: result.status, output: result.combinedText) }
        return result.stdoutText
    }

    @Test func autoPicksBuildKitOnThisEngine() async throws {
        let (_, builder) = try await Self.builder()
        #expect(try await builder.usesBuildKit(.auto))
        #expect(try await !ImageBuilder(docker: builder.docker, environment: ["DOCKER_BUILDKIT": "0"]).usesBuildKit(.auto))
        #expect(try await !builder.usesBuildKit(.classic))
    }

    /// `RUN --mount=type=cache` needs BuildKit; the cache outlives the build, so a second build (with a changed
    /// step) finds what the first left there.
    @Test func cacheMountBuildsAndASecondBuildHitsTheCache() async throws {
        let (daemon, builder) = try await Self.builder()
        let marker = UUID().uuidString
        func dockerfile(_ step: String) -> String {
            """
            FROM busybox:local
            RUN --mount=type=cache,id=bk-\(marker),target=/cache sh -c 'echo \(step); ls /cache > /seen; touch /cache/run-\(step)'
            RUN echo \(step) > /step
            """
        }
        let context = try Self.context(["Dockerfile": dockerfile("one")])
        let first = Recorder()
        let image = "bk-it/cache:\(marker.prefix(8).lowercased())"
        _ = try await builder.build(context: BuildContext(directory: context.path), options: BuildOptions(tags: [image]), onEvent: first.record)
        #expect(try await Self.run(daemon, image, "cat /seen").isEmpty, "the cache starts empty")
        #expect(first.plainLines.contains { $0.contains("RUN --mount=type=cache") })

        // A changed step runs again, and its cache mount holds what the first run wrote there.
        try dockerfile("two").write(toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let second = Recorder()
        _ = try await builder.build(context: BuildContext(directory: context.path), options: BuildOptions(tags: [image]), onEvent: second.record)
        #expect(try await Self.run(daemon, image, "cat /seen") == "run-one\n", "the second build found the first one's cache")

        // Unchanged steps of the same file are CACHED.
        let third = Recorder()
        _ = try await builder.build(context: BuildContext(directory: context.path), options: BuildOptions(tags: [image]), onEvent: third.record)
        #expect(third.plainLines.filter { $0.hasSuffix(" CACHED") }.count >= 2, "\(third.plainLines)")
        #expect(try await Self.run(daemon, image, "cat /seen") == "run-one\n")
    }

    @Test func targetBuildArgsLabelsAndDockerignore() async throws {
        let (daemon, builder) = try await Self.builder()
        let context = try Self.context([
            "Dockerfile": """
            FROM busybox:local AS base
            ARG GREETING=unset
            RUN echo "$GREETING" > /greeting
            COPY . /ctx/
            FROM base AS extra
            RUN touch /extra-stage
            """,
            ".dockerignore": "secret.txt\nlogs\n!logs/keep.log\n", "app.txt": "app\n", "secret.txt": "do not ship\n", "logs/keep.log": "k\n",
            "logs/drop.log": "d\n"
        ])
        let recorder = Recorder()
        let result = try await builder.build(
            context: BuildContext(directory: context.path),
            options: BuildOptions(tags: ["bk-it/app:1"], buildArgs: ["GREETING": "hello bk"], labels: ["team": "core"], target: "base"),
            onEvent: recorder.record)
        #expect(result.imageID.hasPrefix("sha256:"))
        let output = try await Self.run(
            daemon, "bk-it/app:1", "cat /greeting; cd /ctx && find . -type f | sort; test -e /extra-stage && echo EXTRA || echo NO-EXTRA")
        #expect(output == "hello bk\n./.dockerignore\n./Dockerfile\n./app.txt\n./logs/keep.log\nNO-EXTRA\n")
        let label = try await daemon.docker(["image", "inspect", "--format", "{{index .Config.Labels \"team\"}}", "bk-it/app:1"])
        #expect(label.stdoutText == "core\n")
        // Plain progress as docker buildx prints it.
        let lines = recorder.plainLines
        #expect(
            lines.contains { $0.range(of: #"^#\d+ \[base 2/3\] RUN echo "hello bk" > /greeting$"#, options: .regularExpression) != nil }, "\(lines)")
        #expect(lines.contains { $0.range(of: #"^#\d+ DONE \d+\.\ds$"#, options: .regularExpression) != nil })
        #expect(!lines.contains { $0.contains("extra-stage") }, "the stage after --target is not built")
    }

    @Test func failingRunReportsTheStepAndItsLastLines() async throws {
        let (_, builder) = try await Self.builder()
        let context = try Self.context(["Dockerfile": "FROM busybox:local\nRUN echo first-line; echo about-to-fail >&2; exit 3\n"])
        let recorder = Recorder()
        let error = await #expect(throws: ECRPushError.self) {
            _ = try await builder.build(context: BuildContext(directory: context.path), options: BuildOptions(), onEvent: recorder.record)
        }
        guard case .buildStepFailed(let step, let message, let lastLines) = error else {
            Issue.record("not a step failure: \(String(describing: error))")
            return
        }
        #expect(step == "[2/2] RUN echo first-line; echo about-to-fail >&2; exit 3")
        #expect(message.contains("exit code: 3"))
        #expect(Set(lastLines) == ["first-line", "about-to-fail"])
        #expect(error?.description.contains("about-to-fail") == true)
        #expect(recorder.plainLines.contains { $0.hasSuffix(" about-to-fail") })
        #expect(recorder.plainLines.contains { $0.contains("ERROR: ") && $0.contains("exit code: 3") })
    }

    @Test func classicBuilderStillWorks() async throws {
        let (daemon, builder) = try await Self.builder()
        let context = try Self.context(["Dockerfile": "FROM busybox:local\nRUN echo classic > /how\n"])
        let recorder = Recorder()
        _ = try await builder.build(
            context: BuildContext(directory: context.path), options: BuildOptions(tags: ["bk-it/classic:1"], networkMode: "none"),
            builder: .classic, onEvent: recorder.record)
        #expect(recorder.classicOutput.contains("Step 1/2"))
        #expect(recorder.plainLines.isEmpty)
        #expect(try await Self.run(daemon, "bk-it/classic:1", "cat /how") == "classic\n")
    }

    /// A secret mount reads the value the session serves; the image's layers, its history and the progress never
    /// hold it.
    @Test func secretIsReadableInTheBuildAndNowhereInTheImage() async throws {
        let (daemon, plainBuilder) = try await Self.builder()
        let fileValue = "file-secret-\(UUID().uuidString)"
        let envValue = "env-secret-\(UUID().uuidString)"
        let secretFile = TemporaryDirectory(prefix: "bksecret")
        try fileValue.write(toFile: secretFile.path + "/token", atomically: true, encoding: .utf8)
        let context = try Self.context([
            "Dockerfile": """
            FROM busybox:local
            RUN --mount=type=secret,id=token --mount=type=secret,id=npm,required=true \\
                cat /run/secrets/token /run/secrets/npm | sha256sum | cut -c1-64 > /result
            RUN --mount=type=secret,id=not-given test ! -e /run/secrets/not-given
            """
        ])
        var settings = BuildKitSettings(secrets: [
            BuildSecret(id: "token", source: .file(secretFile.path + "/token")), BuildSecret(id: "npm", source: .environment("NPM_TOKEN"))
        ])
        settings.credentials = nil
        let recorder = Recorder()
        let image = "bk-it/secret:1"
        let builder = ImageBuilder(docker: plainBuilder.docker, environment: ["NPM_TOKEN": envValue])
        _ = try await builder.build(
            context: BuildContext(directory: context.path), options: BuildOptions(tags: [image], noCache: true), buildKit: settings,
            onEvent: recorder.record)
        let digest = try await runProcess("sh", ["-c", "printf %s \"$1$2\" | sha256sum | cut -c1-64", "sh", fileValue, envValue])
        #expect(try await Self.run(daemon, image, "cat /result; ls /run/secrets 2>/dev/null | wc -l") == digest.stdoutText + "0\n")
        #expect(Set(recorder.sessionEvents) == [.secretServed(id: "token"), .secretServed(id: "npm"), .secretMissing(id: "not-given")])

        let everything = recorder.plainLines.joined(separator: "\n")
        #expect(!everything.contains(fileValue) && !everything.contains(envValue))
        let saved = try await daemon.docker(["save", image])
        #expect(saved.status == 0)
        let archive = TemporaryDirectory(prefix: "bksave")
        try saved.stdout.write(to: URL(fileURLWithPath: archive.path + "/image.tar"))
        // Every file of every layer, and the config with the history.
        let search = try await runProcess(
            "sh",
            [
                "-c",
                "cd \(archive.path) && tar -xf image.tar && for l in */layer.tar; do tar -xOf \"$l\"; done > all; cat *.json >> all; "
                    + "grep -c -e \"$1\" -e \"$2\" all; test -s all", "sh", fileValue, envValue
            ])
        #expect(search.stdoutText == "0\n", "\(search.combinedText)")
    }

    /// A TCP `DOCKER_HOST` (plain HTTP) carries the session as well: the upgrade to HTTP/2 goes over the TCP
    /// connection, and a secret reaches the build through it.
    @Test func sessionOverATCPDockerHost() async throws {
        let (daemon, _) = try await Self.builder()
        let forwarder = try await TCPForwarder.start(to: daemon.socketPath)
        let docker = try DockerClient(environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(forwarder.port)"])
        let value = "tcp-secret-\(UUID().uuidString)"
        let builder = ImageBuilder(docker: docker, environment: ["TCP_TOKEN": value])
        let context = try Self.context([
            "Dockerfile": "FROM busybox:local\nRUN --mount=type=secret,id=token,required=true sha256sum /run/secrets/token | cut -c1-64 > /digest\n"
        ])
        let recorder = Recorder()
        _ = try await builder.build(
            context: BuildContext(directory: context.path), options: BuildOptions(tags: ["bk-it/tcp:1"], noCache: true),
            buildKit: BuildKitSettings(secrets: [BuildSecret(id: "token", source: .environment("TCP_TOKEN"))]), onEvent: recorder.record)
        let digest = try await runProcess("sh", ["-c", "printf %s \"$1\" | sha256sum | cut -c1-64", "sh", value])
        #expect(try await Self.run(daemon, "bk-it/tcp:1", "cat /digest") == digest.stdoutText)
        #expect(recorder.sessionEvents == [.secretServed(id: "token")])
    }
}
