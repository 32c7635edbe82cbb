import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Freezing a registry of a test's own (`LoopbackRegistry.start()`, never the shared one) holds a push mid-upload
/// for as long as the test needs: connections are still accepted by the kernel, and nothing is answered.
extension LoopbackRegistry {
    /// The registry's process, from world.sh's pid file.
    package var pid: Int32? {
        guard let text = try? String(contentsOfFile: "\(directory)/pids/registry.pid", encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// SIGSTOP: the registry stops answering.
    package func pause() throws {
        guard let pid else { throw WorldError.unexpectedOutput(service: "world.sh registry", output: "no \(directory)/pids/registry.pid") }
        guard kill(pid, SIGSTOP) == 0 else {
            let reason = String(cString: strerror(errno))
            throw WorldError.commandFailed(command: "kill -STOP \(pid) (the registry)", status: errno, output: reason)
        }
    }

    /// SIGCONT: it answers again (harmless if it was not paused). Call it before `stop()`.
    package func resume() {
        if let pid { kill(pid, SIGCONT) }
    }
}
