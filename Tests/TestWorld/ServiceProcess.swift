import CChildProcess
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Starts a helper server script for the test world: nothing inherited but /dev/null on stdin, its stdout on a
/// pipe (its readiness line), its stderr in `logPath`; tracked so the test process's end stops it, and reaped
/// when it exits.
enum ServiceProcess {
    static func spawn(_ arguments: [String], name: String, logPath: String) throws -> (pid: pid_t, stdout: FileHandle) {
        _ = ignoreSIGPIPE
        // Every descriptor close-on-exec, and the child started with nothing else open (see BackgroundProcess).
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let nullInput = open("/dev/null", O_RDONLY | O_CLOEXEC)
        var output: [Int32] = [-1, -1]
        guard log >= 0, nullInput >= 0, ecr_pipe_cloexec(&output) == 0 else {
            [log, nullInput].filter { $0 >= 0 }.forEach { close($0) }
            throw WorldError.launchFailed(program: name, reason: "cannot set up its output: \(String(cString: strerror(errno)))")
        }
        let pid: pid_t
        do {
            pid = try BackgroundProcess.spawn(arguments, stdin: nullInput, stdout: output[1], stderr: log)
        } catch {
            [log, nullInput, output[0], output[1]].forEach { close($0) }
            throw WorldError.launchFailed(program: arguments.joined(separator: " "), reason: "\(error)")
        }
        [log, nullInput, output[1]].forEach { close($0) }
        WorldCleanup.track(pid: pid)
        Thread.detachNewThread { _ = BackgroundProcess.waitForExit(pid) }
        return (pid, FileHandle(fileDescriptor: output[0], closeOnDealloc: true))
    }
}
