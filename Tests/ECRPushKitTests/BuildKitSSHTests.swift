import BuildKitSession
import DockerEngine
import Foundation
import TestWorld
import Testing

@testable import ECRPushKit

/// `--ssh`: a real ssh-agent on this machine, forwarded through the build session to `RUN --mount=type=ssh` steps
/// that run OpenSSH's own client tools (copied into the image with their libraries, as busybox has none).
@Suite(.serialized) struct BuildKitSSHTests {
    /// An ssh-agent of the test's own holding one fresh key, stopped when the value goes.
    final class TestAgent {
        let directory = TemporaryDirectory(prefix: "agent")
        var socket: String { directory.path + "/agent.sock" }
        var publicKey: String { directory.path + "/key.pub" }
        private(set) var pid: pid_t = 0
        private(set) var fingerprint = ""

        func start() async throws {
            let started = try await runProcess("ssh-agent", ["-s", "-a", socket])
            guard started.status == 0, let match = started.stdoutText.firstMatch(of: /SSH_AGENT_PID=(\d+)/), let pid = pid_t(match.1) else {
                throw WorldError.commandFailed(command: "ssh-agent", status: started.status, output: started.combinedText)
            }
            self.pid = pid
            let key = directory.path + "/key"
            for (program, arguments, environment) in [
                ("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ecrpush-test", "-f", key], [:]),
                ("ssh-add", ["-q", key], ["SSH_AUTH_SOCK": socket])
            ] {
                let result = try await runProcess(program, arguments, environment: environment)
                guard result.status == 0 else { throw WorldError.commandFailed(command: program, status: result.status, output: result.combinedText) }
            }
            // The key now lives in the agent only: a build step that signs can have used nothing but the agent.
            try FileManager.default.removeItem(atPath: key)
            fingerprint = String(try await runProcess("ssh-keygen", ["-lf", publicKey]).stdoutText.split(separator: " ")[1])
        }

        func listed() async throws -> String {
            try await runProcess("ssh-add", ["-l"], environment: ["SSH_AUTH_SOCK": socket]).stdoutText
        }

        deinit { if pid > 0 { kill(pid, SIGTERM) } }
    }

    /// A build context whose image has ssh-add and ssh-keygen (and the libraries they load) beside busybox.
    static func context(dockerfile: String, publicKey: String) async throws -> TemporaryDirectory {
        let context = try BuildKitBuildTests.context(["Dockerfile": dockerfile, "rootfs/etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"])
        var files: Set<String> = []
        for program in ["/usr/bin/ssh-add", "/usr/bin/ssh-keygen"] {
            files.insert(program)
            let libraries = try await runProcess("ldd", [program]).stdoutText
            for match in libraries.matches(of: /(\/[^ \t\n]+)/) { files.insert(String(match.1)) }
        }
        for file in files.sorted() {
            let target = context.path + "/rootfs" + file
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // The file itself, not a link to it (libraries are links to versioned names the image would not have).
            guard let real = realpath(file, nil) else { throw CocoaError(.fileNoSuchFile) }
            defer { free(real) }
            try FileManager.default.copyItem(atPath: String(cString: real), toPath: target)
        }
        try FileManager.default.copyItem(atPath: publicKey, toPath: context.path + "/rootfs/key.pub")
        return context
    }

    /// The build lists the agent's key and signs with it (the key file is gone: only the agent can sign), an
    /// attempt to remove the agent's keys is refused by ecrpush and the agent keeps them, and an optional mount of
    /// an id nobody gave runs without an agent.
    @Test func agentIsForwardedReadOnly() async throws {
        let agent = TestAgent()
        try await agent.start()
        let context = try await Self.context(
            dockerfile: """
                FROM busybox:local
                COPY rootfs/ /
                RUN --mount=type=ssh ssh-add -l
                RUN --mount=type=ssh echo signed-data | ssh-keygen -Y sign -n file -f /key.pub > /signature
                RUN --mount=type=ssh ssh-add -D; echo "remove-all exit $?"
                RUN --mount=type=ssh,id=nobody ssh-add -l; echo "optional mount: exit $?"
                """, publicKey: agent.publicKey)
        let (daemon, builder) = try await BuildKitBuildTests.builder()
        let recorder = BuildKitBuildTests.Recorder()
        let image = "bk-it/ssh:1"
        _ = try await builder.build(
            context: BuildContext(directory: context.path), options: BuildOptions(tags: [image], noCache: true),
            buildKit: BuildKitSettings(sshAgents: [SSHAgent(socketPath: agent.socket)]), onEvent: recorder.record)

        let output = recorder.plainLines.joined(separator: "\n")
        #expect(output.contains(agent.fingerprint + " ecrpush-test (ED25519)"), "\(output)")
        #expect(output.contains("remove-all exit 1"), "\(output)")
        #expect(output.contains("optional mount: exit 2"), "ssh-add's exit when it reaches no agent: \(output)")
        #expect(try await agent.listed().contains(agent.fingerprint), "the agent still holds its key")
        let events = recorder.sessionEvents
        #expect(events.contains(.sshAgentChecked(id: "default")))
        #expect(events.contains(.sshAgentMissing(id: "nobody")))
        #expect(events.contains { if case .sshRequestRefused(id: "default", _) = $0 { return true } else { return false } })

        // The signature made in the build verifies with the public key on this side.
        let signature = try await BuildKitBuildTests.run(daemon, image, "cat /signature")
        let directory = TemporaryDirectory(prefix: "sig")
        try signature.write(toFile: directory.path + "/data.sig", atomically: true, encoding: .utf8)
        let publicKey = try String(contentsOfFile: agent.publicKey, encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        try "signer \(publicKey)\n".write(toFile: directory.path + "/allowed", atomically: true, encoding: .utf8)
        let verified = try await runProcess(
            "ssh-keygen", ["-Y", "verify", "-f", directory.path + "/allowed", "-I", "signer", "-n", "file", "-s", directory.path + "/data.sig"],
            stdin: Data("signed-data\n".utf8))
        #expect(verified.status == 0, "\(verified.combinedText)")
    }

    /// A mount that requires an id no `--ssh` gave fails the step with the id in the message.
    @Test func requiredMountOfAnIdNotGivenFails() async throws {
        let agent = TestAgent()
        try await agent.start()
        let context = try BuildKitBuildTests.context(["Dockerfile": "FROM busybox:local\nRUN --mount=type=ssh,id=deploy,required=true true\n"])
        let (_, builder) = try await BuildKitBuildTests.builder()
        let error = await #expect(throws: ECRPushError.self) {
            _ = try await builder.build(
                context: BuildContext(directory: context.path), options: BuildOptions(noCache: true),
                buildKit: BuildKitSettings(sshAgents: [SSHAgent(socketPath: agent.socket)]), onEvent: { _ in })
        }
        #expect(error?.description.contains("no SSH agent 'deploy' was forwarded") == true, "\(String(describing: error))")
    }

    /// The classic builder has no session: `--ssh` is refused rather than ignored.
    @Test func classicBuilderRefusesSSH() async throws {
        let (_, builder) = try await BuildKitBuildTests.builder()
        let context = try BuildKitBuildTests.context(["Dockerfile": "FROM busybox:local\n"])
        let error = await #expect(throws: ECRPushError.self) {
            _ = try await builder.build(
                context: BuildContext(directory: context.path), options: BuildOptions(), builder: .classic,
                buildKit: BuildKitSettings(sshAgents: [SSHAgent(socketPath: "/nonexistent")]), onEvent: { _ in })
        }
        #expect(error?.description.contains("--ssh needs BuildKit") == true)
    }
}
