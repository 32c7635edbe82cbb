internal import CChildProcess
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a program to completion with its stdin, stdout and stderr on pipes, waiting on threads of its own.
///
/// Why not Foundation's `Process`: its pipes are inheritable, so a child that another thread spawns at the same
/// moment (a long-lived server, say) inherits this child's stdout and the reader never sees end-of-file. Here
/// every pipe is close-on-exec (only the dup2'ed copies reach the child), and the child starts with no blocked
/// signals and default handlers, whatever the spawning thread had.
package enum ChildProcess {
    package struct Result: Sendable {
        package var status: Int32
        package var stdout: [UInt8]
        package var stderr: [UInt8]
    }

    package struct LaunchError: Error, Sendable, CustomStringConvertible {
        package let program: String
        package let reason: String
        package var description: String { "could not start \(program): \(reason)" }
    }

    /// `path` is absolute (or relative to the current directory); `environment` is the child's whole environment.
    package static func run(
        _ path: String, arguments: [String], environment: [String: String],
        stdin: [UInt8]? = nil, currentDirectory: String? = nil
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    continuation.resume(
                        returning: try runBlocking(
                            path, arguments: arguments, environment: environment,
                            stdin: stdin, currentDirectory: currentDirectory))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    static func runBlocking(
        _ path: String, arguments: [String], environment: [String: String], stdin: [UInt8]?,
        currentDirectory: String?
    ) throws -> Result {
        func fail(_ what: String) -> LaunchError { LaunchError(program: path, reason: "\(what): \(String(cString: strerror(errno)))") }
        var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1], errors: [Int32] = [-1, -1]
        guard ecr_pipe_cloexec(&input) == 0, ecr_pipe_cloexec(&output) == 0, ecr_pipe_cloexec(&errors) == 0 else {
            throw fail("pipe")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errors[1], 2)
        if let currentDirectory { ecr_spawn_file_actions_addchdir(&actions, currentDirectory) }
        // Nothing else crosses into the child: not even a descriptor another thread opened without close-on-exec
        // (a child that keeps a file open for writing makes executing that file fail with "Text file busy").
        ecr_spawn_file_actions_addclosefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        for fd in [input[0], output[1], errors[1]] { close(fd) }
        guard spawned == 0 else {
            for fd in [input[1], output[0], errors[0]] { close(fd) }
            throw LaunchError(program: path, reason: String(cString: strerror(spawned)))
        }

        let (stdinWriter, stdoutReader, stderrReader) = (input[1], output[0], errors[0])
        Thread.detachNewThread {
            if let stdin { writeAll(stdinWriter, stdin) }
            close(stdinWriter)
        }
        let errorOutput = Box()
        let drained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            errorOutput.bytes = readAll(stderrReader)
            close(stderrReader)
            drained.signal()
        }
        let standardOutput = readAll(stdoutReader)
        close(stdoutReader)
        drained.wait()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: exitStatus, stdout: standardOutput, stderr: errorOutput.bytes)
    }

    private final class Box: @unchecked Sendable { var bytes: [UInt8] = [] }

    private static func readAll(_ fd: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { bytes += buffer[0..<count] } else if count == 0 || errno != EINTR { return bytes }
        }
    }

    /// Writes on a thread with SIGPIPE blocked: a child that exits without reading gives EPIPE here instead of
    /// killing the whole program (the signal is directed at this thread, and dies with it).
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count > 0 { offset += count } else if count < 0 && errno == EINTR { continue } else { return }
        }
    }
}
