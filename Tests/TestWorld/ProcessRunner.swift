import ChildProcess
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished process left behind.
package struct ProcessResult: Sendable {
    package let status: Int32
    package let stdout: Data
    package let stderr: Data

    package var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    package var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    /// stdout and stderr, for failure messages.
    package var combinedText: String { stdoutText + (stderr.isEmpty ? "" : "\n[stderr]\n" + stderrText) }
}

/// Runs `executable` (a path, or a name looked up on PATH) to completion and collects its output.
/// Never blocks the cooperative pool: pipes are drained on dedicated threads and the exit is awaited
/// through the termination handler. `environment` entries are added to this process's environment,
/// or replace it entirely when `inheritEnvironment` is false. Returns once the process exited AND its
/// stdout/stderr closed: a background child that inherits them holds the call (world.sh detaches its own).
package func runProcess(
    _ executable: String,
    _ arguments: [String] = [],
    environment: [String: String] = [:],
    inheritEnvironment: Bool = true,
    stdin: Data? = nil,
    currentDirectory: URL? = nil
) async throws -> ProcessResult {
    let path = try resolveExecutable(executable)
    let fullEnvironment =
        inheritEnvironment
        ? ProcessInfo.processInfo.environment.merging(environment) { _, new in new } : environment
    do {
        // ChildProcess, not Foundation's Process: its pipes are close-on-exec, so a server another test starts at
        // the same moment cannot inherit this child's stdout and hold the call open.
        let result = try await ChildProcess.run(
            path, arguments: arguments, environment: fullEnvironment,
            stdin: stdin.map { [UInt8]($0) }, currentDirectory: currentDirectory?.path)
        return ProcessResult(status: result.status, stdout: Data(result.stdout), stderr: Data(result.stderr))
    } catch let error as ChildProcess.LaunchError {
        throw WorldError.launchFailed(program: executable, reason: error.reason)
    }
}

/// Runs `python3 -c script arguments...` (boto3 is installed). Put secrets in `environment`, not in the script.
package func runPython(
    _ script: String, arguments: [String] = [], environment: [String: String] = [:]
) async throws -> ProcessResult {
    try await runProcess("python3", ["-c", script] + arguments, environment: environment)
}

func resolveExecutable(_ name: String) throws -> String {
    if name.contains("/") { return name }
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw WorldError.launchFailed(program: name, reason: "not found on PATH")
}

/// Writing to a child that already exited must fail with EPIPE, not kill the test process.
let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
