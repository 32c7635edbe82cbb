import Foundation
import Synchronization
import TestWorld

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An ecrpush started in the background, for tests that signal it while it works: its pid, and its stdout and
/// stderr in files that can be read while it runs. Killed (SIGKILL) when released still running.
///
/// What must be timed runs on threads of its own, not in the test's task: a thread blocked in waitpid notes the
/// moment ecrpush ends, and `send(_:onceStderrContains:)` signals from a thread that watches stderr. The full suite
/// keeps Swift's cooperative pool busy for seconds at a time, which would otherwise be measured as ecrpush's delay.
final class BackgroundECRPush: Sendable {
    struct End: Sendable {
        let ending: BackgroundProcess.Ending
        let at: ContinuousClock.Instant
    }

    /// Shared with the thread that waits for the process.
    private final class Outcome: Sendable {
        let end = Mutex<End?>(nil)
    }

    let pid: pid_t
    private let output: TemporaryDirectory
    private let isolation: String
    private let outcome = Outcome()

    /// `launcher`: a program (absolute path first) that starts ecrpush with the arguments after it, e.g.
    /// `["/bin/sh", "-c", "trap '' HUP; exec \"$0\" \"$@\""]` to start it with SIGHUP ignored.
    init(_ arguments: [String], environment: [String: String], launcher: [String] = []) throws {
        output = TemporaryDirectory(prefix: "ecrbg")
        let (full, isolation) = ECRPushCLI.isolatedEnvironment(environment)
        self.isolation = isolation
        let stdout = open(output.path + "/stdout", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let stderr = open(output.path + "/stderr", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let stdin = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { [stdout, stderr, stdin].filter { $0 >= 0 }.forEach { close($0) } }
        guard stdout >= 0, stderr >= 0, stdin >= 0 else {
            throw WorldError.launchFailed(program: ECRPushCLI.binary, reason: "cannot open its output files: \(String(cString: strerror(errno)))")
        }
        let pid = try BackgroundProcess.spawn(
            launcher + [ECRPushCLI.binary] + arguments, environment: full, stdin: stdin, stdout: stdout, stderr: stderr)
        self.pid = pid
        let outcome = self.outcome
        Thread.detachNewThread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let at = ContinuousClock.now
            // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot see.
            let ending: BackgroundProcess.Ending = status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .killed(signal: status & 0x7f)
            outcome.end.withLock { $0 = End(ending: ending, at: at) }
        }
    }

    deinit {
        if outcome.end.withLock({ $0 }) == nil { kill(pid, SIGKILL) }  // the waiting thread reaps it
        try? FileManager.default.removeItem(atPath: isolation)
    }

    var stdoutText: String { (try? String(contentsOfFile: output.path + "/stdout", encoding: .utf8)) ?? "" }
    var stderrText: String { (try? String(contentsOfFile: output.path + "/stderr", encoding: .utf8)) ?? "" }

    /// Sends `signal` now; the moment it was sent.
    @discardableResult
    func send(_ signal: Int32) -> ContinuousClock.Instant {
        let now = ContinuousClock.now
        kill(pid, signal)
        return now
    }

    /// Sends `signal` as soon as stderr contains `text` (watched every few milliseconds from a thread of its own);
    /// the moment it was sent, or nil if `text` did not appear within `timeout`.
    func send(_ signal: Int32, onceStderrContains text: String, timeout: Duration) async -> ContinuousClock.Instant? {
        let path = output.path + "/stderr"
        let pid = self.pid
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline {
                    if let stderr = try? String(contentsOfFile: path, encoding: .utf8), stderr.contains(text) {
                        let now = ContinuousClock.now
                        kill(pid, signal)
                        continuation.resume(returning: now)
                        return
                    }
                    usleep(2_000)
                }
                continuation.resume(returning: nil)
            }
        }
    }

    /// How it ended and when, once it has (nil if it still runs after `timeout`).
    func end(timeout: Duration) async -> End? {
        await eventually(timeout: timeout) { outcome.end.withLock { $0 } }
    }

    /// How it ended, once it has (nil if it still runs after `timeout`).
    func ending(timeout: Duration) async -> BackgroundProcess.Ending? {
        await end(timeout: timeout)?.ending
    }
}

/// Polls `condition` until it gives a value or `timeout` passes.
func eventually<Value>(timeout: Duration, _ condition: () async throws -> Value?) async rethrows -> Value? {
    let deadline = ContinuousClock.now + timeout
    while true {
        if let value = try await condition() { return value }
        if ContinuousClock.now >= deadline { return nil }
        try? await Task.sleep(for: .milliseconds(50))
    }
}
