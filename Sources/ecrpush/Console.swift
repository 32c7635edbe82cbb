import AWSCore
import ArgumentParser
import Foundation
import HTTPTransport

/// The only place that writes to the terminal. Results go to stdout, diagnostics to stderr.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func err(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// When the command started: `main()` reads it first, so that it is set before any other work.
    static let started = ContinuousClock.now

    /// Seconds since `started`, to the millisecond ("0.081s").
    static var elapsed: String {
        String(format: "%.3fs", (ContinuousClock.now - started).inSeconds)
    }

    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) == 1 }

    /// Columns of the terminal on stderr (`COLUMNS`, else the tty's, else 80).
    static var terminalWidth: Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        return 80
    }

    /// Runs a command body; any error is printed plainly (its `description` says what to do) and exits 1, or 64
    /// for bad input (`validate()` catches it before any request; this covers input only read later).
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch let error as CleanExit {
            throw error
        } catch let error as AWSError where error.isInvalidInput {
            err("ecrpush: error: \(error.description)")
            throw ExitCode.validationFailure
        } catch {
            // Cancelled by a signal: whatever the cancellation threw is no error of its own, and Interruption says
            // what happened in one line.
            if Task.isCancelled { throw error }
            err("ecrpush: error: \(String(describing: error))")
            throw ExitCode.failure
        }
    }
}
