import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished process left behind.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: Data

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
    /// stdout and stderr, for failure messages.
    public var combinedText: String { stdoutText + (stderr.isEmpty ? "" : "\n[stderr]\n" + stderrText) }
}

/// Runs `executable` (a path, or a name looked up on PATH) to completion and collects its output.
/// Never blocks the cooperative pool: pipes are drained on dedicated threads and the exit is awaited
/// through the termination handler. `environment` entries are added to this process's environment,
/// or replace it entirely when `inheritEnvironment` is false. Returns once the process exited AND its
/// stdout/stderr closed: a background child that inherits them holds the call (world.sh detaches its own).
public func runProcess(
    _ executable: String,
    _ arguments: [String] = [],
    environment: [String: String] = [:],
    inheritEnvironment: Bool = true,
    stdin: Data? = nil,
    currentDirectory: URL? = nil
) async throws -> ProcessResult {
    _ = ignoreSIGPIPE
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try resolveExecutable(executable))
    process.arguments = arguments
    process.environment = inheritEnvironment
        ? ProcessInfo.processInfo.environment.merging(environment) { _, new in new } : environment
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    let input = stdin.map { _ in Pipe() }
    process.standardInput = input ?? FileHandle.nullDevice

    let collected = Collected()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ProcessResult, Error>) in
        collected.onComplete = { status, out, err in
            continuation.resume(returning: ProcessResult(status: status, stdout: out, stderr: err))
        }
        process.terminationHandler = { finished in collected.exited(finished.terminationStatus) }
        do {
            try process.run()
        } catch {
            continuation.resume(throwing: WorldError.launchFailed(program: executable, reason: "\(error)"))
            return
        }
        // Our copies of the child's ends must close, or the readers never see EOF.
        try? output.fileHandleForWriting.close()
        try? errors.fileHandleForWriting.close()
        let outReader = output.fileHandleForReading, errReader = errors.fileHandleForReading
        Thread.detachNewThread { collected.stdout(outReader.readDataToEndOfFile()) }
        Thread.detachNewThread { collected.stderr(errReader.readDataToEndOfFile()) }
        if let input, let stdin {
            try? input.fileHandleForReading.close()
            let writer = input.fileHandleForWriting
            Thread.detachNewThread {
                try? writer.write(contentsOf: stdin)  // EPIPE if the child doesn't read: fine
                try? writer.close()
            }
        }
    }
}

/// Runs `python3 -c script arguments...` (boto3 is installed). Put secrets in `environment`, not in the script.
public func runPython(
    _ script: String, arguments: [String] = [], environment: [String: String] = [:]
) async throws -> ProcessResult {
    try await runProcess("python3", ["-c", script] + arguments, environment: environment)
}

/// Gathers the three events of a finished process (exit, stdout EOF, stderr EOF) from any thread.
private final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var status: Int32?
    private var out: Data?
    private var err: Data?
    var onComplete: ((Int32, Data, Data) -> Void)?

    func exited(_ value: Int32) { update { status = value } }
    func stdout(_ value: Data) { update { out = value } }
    func stderr(_ value: Data) { update { err = value } }

    private func update(_ change: () -> Void) {
        lock.lock()
        change()
        guard let status, let out, let err, let onComplete else { lock.unlock(); return }
        self.onComplete = nil
        lock.unlock()
        onComplete(status, out, err)
    }
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
