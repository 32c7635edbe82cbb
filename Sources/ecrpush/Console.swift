import AWSCore
import ArgumentParser
import Foundation
import HTTPTransport
import Synchronization

/// The only place that writes to the terminal. Results go to stdout, diagnostics to stderr.
enum Console {
    static func out(_ text: String) {
        write(text + "\n", to: STDOUT_FILENO)
    }

    static func err(_ text: String) {
        write(text + "\n", to: STDERR_FILENO)
    }

    /// Writes all of `text` to `descriptor` (stdout or stderr), waiting out a descriptor left non-blocking. ecrpush
    /// ignores SIGPIPE (`main`; so does swift-nio's listener), and Foundation's `FileHandle.write` traps on any write
    /// error (exit 132, with the relay's names and temporary files left), hence write(2) here. A reader that went away
    /// (EPIPE: `| head`, a log collector that died) calls `onBrokenOutput` once: the command then stops as SIGPIPE
    /// would have stopped it, cleaning up first. Any other failure (a full disk behind `> file`) is kept for the exit
    /// status (`failure(of:)`) and the work goes on. Later writes to a failed descriptor are dropped.
    static func write(_ text: String, to descriptor: Int32) {
        guard output.withLock({ $0.failures[descriptor] == nil }) else { return }
        var failure: Int32?
        Array(text.utf8).withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written >= 0 {
                    offset += written
                } else if errno == EAGAIN || errno == EWOULDBLOCK {
                    // A descriptor left non-blocking by whoever shares it (some CI runners do): wait until it drains.
                    var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&ready, 1, 1000)
                } else if errno != EINTR {
                    failure = errno
                    return
                }
            }
        }
        guard let failure else { return }
        let hook = output.withLock { output -> (@Sendable () -> Void)? in
            output.failures[descriptor] = failure
            guard failure == EPIPE else { return nil }
            defer { output.onBroken = nil }
            return output.onBroken
        }
        hook?()
    }

    /// The error (errno) a write to `descriptor` failed with, if one did.
    static func failure(of descriptor: Int32) -> Int32? {
        output.withLock { $0.failures[descriptor] }
    }

    private struct Output: Sendable {
        var failures: [Int32: Int32] = [:]
        var onBroken: (@Sendable () -> Void)?
    }
    private static let output = Mutex(Output())

    /// Called once, on the writing thread, when stdout or stderr first loses its reader (see `write`).
    static func onBrokenOutput(_ hook: @escaping @Sendable () -> Void) {
        output.withLock { $0.onBroken = hook }
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
