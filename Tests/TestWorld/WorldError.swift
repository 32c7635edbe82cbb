import Foundation

/// Why the loopback world (moto, registry, dockerd) could not be started or used.
package enum WorldError: Error, CustomStringConvertible, Sendable {
    /// A program could not be launched at all (not installed, not executable).
    case launchFailed(program: String, reason: String)
    /// A helper exited non-zero; `output` is the tail of what it printed.
    case commandFailed(command: String, status: Int32, output: String)
    /// A service did not become ready in time; `log` is the tail of its log.
    case notReady(service: String, seconds: Int, log: String)
    /// A service printed something we could not understand.
    case unexpectedOutput(service: String, output: String)

    package var description: String {
        switch self {
        case .launchFailed(let program, let reason):
            return "could not launch \(program): \(reason). Is it installed (see the Makefile's deps target)?"
        case .commandFailed(let command, let status, let output):
            return "\(command) exited with status \(status):\n\(output)"
        case .notReady(let service, let seconds, let log):
            return "\(service) was not ready after \(seconds)s. Last log lines:\n\(log)"
        case .unexpectedOutput(let service, let output):
            return "\(service) printed something unexpected:\n\(output)"
        }
    }
}
