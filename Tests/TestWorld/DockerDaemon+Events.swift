import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Engine's events as they happen, from a `docker events` started before the work it records. Reading them
/// afterwards with `--since` is not enough: the Engine keeps only its last 256 events, and on a loaded test run the
/// other tests' builds push a short push's first events out of that buffer before it is read.
package struct DockerEventRecording: Sendable {
    let pid: pid_t
    let directory: TemporaryDirectory

    /// Stops the recording (after a moment for events still on their way) and returns its lines.
    package func stop() async -> [String] {
        try? await Task.sleep(for: .milliseconds(300))
        kill(pid, SIGTERM)
        if await BackgroundProcess.ending(of: pid, timeout: .seconds(5)) == nil {
            kill(pid, SIGKILL)
            _ = await BackgroundProcess.ending(of: pid, timeout: .seconds(5))
        }
        let text = (try? String(contentsOf: directory.appending("events"), encoding: .utf8)) ?? ""
        directory.remove()
        return text.split(separator: "\n").map(String.init)
    }
}

extension DockerDaemon {
    /// Starts `docker events` with the given `--filter`s and `--format`. `--since` the moment before it starts, so
    /// events between its start and its subscription come from the Engine's buffer; `--until` ten minutes on, so a
    /// test that fails before `stop()` leaves nothing running for long.
    package func recordEvents(filters: [String], format: String) throws -> DockerEventRecording {
        let now = Date().timeIntervalSince1970
        let directory = TemporaryDirectory(prefix: "twev")
        let output = open(directory.appending("events").path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else {
            throw WorldError.launchFailed(program: "docker events", reason: String(cString: strerror(errno)))
        }
        defer { close(output) }
        let arguments =
            [try resolveExecutable("docker"), "-H", host, "events", "--since", String(format: "%.6f", now), "--until", "\(Int(now) + 600)"]
            + filters.flatMap { ["--filter", $0] } + ["--format", format]
        let environment = ProcessInfo.processInfo.environment.merging(self.environment) { _, new in new }
        do {
            let pid = try BackgroundProcess.spawn(arguments, environment: environment, stdout: output)
            return DockerEventRecording(pid: pid, directory: directory)
        } catch let failure as BackgroundProcess.Failure {
            throw WorldError.launchFailed(program: "docker events", reason: failure.description)
        }
    }
}
