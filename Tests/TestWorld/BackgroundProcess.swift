import CChildProcess
import Foundation

/// posix_spawn and waitpid, for the test servers (motoworld, the HTTP test server) and child test runs.
/// Foundation's `Process` is avoided: its child reaping on Linux was seen to miss children that exit at the same
/// moment (`isRunning` stayed true), and its children inherit descriptors another thread opened without
/// close-on-exec (a long-lived server once kept a test's script open for writing: "Text file busy").
package enum BackgroundProcess {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// Starts `arguments[0]` with the given descriptors as stdin/stdout/stderr (nil: inherited) and nothing else
    /// open, with an empty signal mask and default SIGTERM/SIGINT/SIGHUP/SIGPIPE handling whatever the spawning
    /// thread had.
    package static func spawn(
        _ arguments: [String], environment: [String: String]? = nil,
        stdin: Int32? = nil, stdout: Int32? = nil, stderr: Int32? = nil
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) }
        if let stdout { posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        if let stderr { posix_spawn_file_actions_adddup2(&actions, stderr, 2) }
        ecr_spawn_file_actions_addclosefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaultSignals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }

        var pid: pid_t = 0
        let result: Int32
        if let envp {
            result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        } else {
            result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        }
        guard result == 0 else {
            throw Failure(description: "could not start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// How a process ended.
    package enum Ending: Equatable, Sendable, CustomStringConvertible {
        case exited(Int32)
        case killed(signal: Int32)

        package var description: String {
            switch self {
            case .exited(let status): return "exit status \(status)"
            case .killed(let signal): return "killed by signal \(signal)"
            }
        }
    }

    /// Reaps `pid` if it has ended, without waiting: nil while it runs (or if it is not this process's child).
    package static func reapIfEnded(_ pid: pid_t) -> Ending? {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot see.
        return status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .killed(signal: status & 0x7f)
    }

    /// Waits (polling, never blocking a thread) until `pid` ends; nil if it still runs after `timeout`.
    package static func ending(of pid: pid_t, timeout: Duration) async -> Ending? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let ending = reapIfEnded(pid) { return ending }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return reapIfEnded(pid)
    }

    /// Blocks until `pid` exits; its exit status, or nil when it was killed by a signal or reaped elsewhere.
    package static func waitForExit(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, 0)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { return nil }
        }
        // WIFEXITED / WEXITSTATUS are macros Swift cannot see.
        return status & 0x7f == 0 ? (status >> 8) & 0xff : nil
    }
}
