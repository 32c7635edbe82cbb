import Foundation
import TestWorld
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How long an interrupted ecrpush may take: a second signal exits at once, and a command that does not stop is left
/// after a few seconds. The command that will not stop is `ecrpush login` waiting for a `credential_process` that
/// ignores signals and sleeps (ecrpush waits for its credential process to exit); nothing else is needed, so these
/// tests run without the loopback world.
@Suite struct InterruptTimingTests {
    /// A profile whose credential_process writes its pid to `started`, ignores SIGINT, SIGTERM and SIGHUP, and sleeps.
    struct StuckCredentialProcess {
        let directory = TemporaryDirectory(prefix: "ecrstuck")

        init() throws {
            let script = directory.path + "/credential-process"
            try "#!/bin/sh\ntrap '' INT TERM HUP\necho $$ > \(directory.path)/started\nexec sleep 300\n"
                .write(toFile: script, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
            try "[profile stuck]\nregion = eu-west-1\ncredential_process = \(script)\n"
                .write(toFile: directory.path + "/config", atomically: true, encoding: .utf8)
        }

        var environment: [String: String] { ["AWS_CONFIG_FILE": directory.path + "/config", "AWS_PROFILE": "stuck"] }

        /// The sleeping credential process, once it runs.
        var pid: Int32? {
            (try? String(contentsOfFile: directory.path + "/started", encoding: .utf8)).flatMap {
                Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }

        /// `ecrpush login`, once it is waiting for the credential process.
        func startLogin(launcher: [String] = []) async throws -> BackgroundECRPush {
            let login = try BackgroundECRPush(["login"], environment: environment, launcher: launcher)
            let started = await eventually(timeout: .seconds(60)) { pid }
            try #require(started != nil, "the credential process never ran: \(login.stderrText)")
            return login
        }

        /// It outlives ecrpush (nothing kills what ignores every signal but SIGKILL).
        func stop() {
            if let pid { kill(pid, SIGKILL) }
        }
    }

    @Test func aSecondCtrlCExitsAtOnceWhileTheFirstIsStillStoppingTheCommand() async throws {
        let stuck = try StuckCredentialProcess()
        defer { stuck.stop() }
        let login = try await stuck.startLogin()
        login.send(SIGINT)
        // The second one as soon as ecrpush says it is stopping (the command cannot stop: it waits for the credential
        // process), well before the grace period ends 3 s after the first.
        let second = try #require(
            await login.send(SIGINT, onceStderrContains: "ecrpush: SIGINT: stopping the login (Ctrl-C again to exit at once)", timeout: .seconds(30)),
            "\(login.stderrText)")
        let end = try #require(await login.end(timeout: .seconds(60)), "\(login.stderrText)")
        #expect(end.ending == .exited(130), "\(login.stderrText)")
        #expect(login.stderrText.contains("ecrpush: interrupted again (SIGINT): exiting at once"), "\(login.stderrText)")
        // Not the forced exit 3 s after the first signal: that one says "did not stop".
        #expect(!login.stderrText.contains("did not stop"))
        #expect(end.at - second < .seconds(2), "exited \(end.at - second) after the second SIGINT")
    }

    @Test func aCommandThatDoesNotStopIsLeftAfterAFewSeconds() async throws {
        let stuck = try StuckCredentialProcess()
        defer { stuck.stop() }
        let login = try await stuck.startLogin()
        let signalled = login.send(SIGTERM)
        // Far less than the credential process sleeps: only the grace period can end it this soon.
        let end = try #require(await login.end(timeout: .seconds(60)), "\(login.stderrText)")
        #expect(end.ending == .exited(143), "\(login.stderrText)")
        #expect(login.stderrText.contains("ecrpush: SIGTERM: stopping the login (a second signal exits at once)"), "\(login.stderrText)")
        #expect(login.stderrText.contains("ecrpush: interrupted (SIGTERM): the login did not stop within 3 s; exiting anyway"))
        let took = end.at - signalled
        #expect(took >= .milliseconds(2_900) && took < .seconds(10), "exited \(took) after SIGTERM")
    }

    /// `nohup` (or a background job of a non-interactive shell) starts a program with SIGHUP (or SIGINT) ignored;
    /// ecrpush leaves it so.
    @Test func aSignalIgnoredWhenEcrpushStartsStaysIgnored() async throws {
        let stuck = try StuckCredentialProcess()
        defer { stuck.stop() }
        let login = try await stuck.startLogin(launcher: ["/bin/sh", "-c", "trap '' HUP; exec \"$0\" \"$@\""])
        login.send(SIGHUP)
        #expect(await login.ending(timeout: .seconds(2)) == nil, "still running after SIGHUP: \(login.stderrText)")
        #expect(!login.stderrText.contains("SIGHUP"))
        login.send(SIGTERM)
        #expect(await login.ending(timeout: .seconds(30)) == .exited(143), "\(login.stderrText)")
    }
}
