import Dispatch
import ECRPushKit
import Foundation
import ImageExport
import Synchronization

/// SIGINT, SIGTERM and SIGHUP while a command runs, and a stdout or stderr whose reader went away (as SIGPIPE). The
/// first one cancels the command's task, so structured cancellation stops everything it does (curl transfers abort,
/// the Engine stops a build whose connection closes, the export removes its files); `finish` then reports what is
/// true and exits with 128 + the signal. A second signal, or a command still running `gracePeriod` after the first,
/// exits at once after removing this process's temporary directories: the process never dies mid-push with its files
/// left behind, and never hangs either.
///
/// Signals arrive through a `DispatchSourceSignal` on a queue of its own: none of this runs in a signal handler
/// (where almost nothing is safe), nor on Swift's cooperative pool. A signal that was ignored when ecrpush started
/// (`nohup`, a background job of a non-interactive shell) stays ignored.
final class Interruption: Sendable {
    static let signals = [SIGINT, SIGTERM, SIGHUP]
    /// How long a cancelled command may take to stop before the process exits anyway: aborting every transfer of
    /// a push took well under a second in the tests (a registry that answers nothing included); closing an upload
    /// session is one request more.
    static let gracePeriod = 3
    /// How long a forced exit waits for the Engine to remove the relay's names (a removal takes milliseconds).
    static let namesTimeout = Duration.seconds(2)

    private struct State {
        var signal: Int32?
        var task: Task<Void, any Error>?
        /// Set by whoever decides how the process exits; nobody else may then.
        var exiting = false
    }

    private let progress: CommandProgress
    private let queue = DispatchQueue(label: "ecrpush.signals")
    private let state = Mutex(State())
    /// Kept for the life of the process (a released source stops delivering); written only by `install`, never read.
    nonisolated(unsafe) private var sources: [any DispatchSourceSignal] = []

    private init(progress: CommandProgress) {
        self.progress = progress
    }

    /// Takes over SIGINT, SIGTERM and SIGHUP from now on; `progress` is what the reports describe.
    static func install(progress: CommandProgress) -> Interruption {
        let interruption = Interruption(progress: progress)
        for number in signals {
            // Ignored first, or the default action (death) would win the race against the source; the source
            // still sees it (libdispatch installs its own handler and reads a signalfd).
            let previous = signal(number, SIG_IGN)
            if previous.map({ unsafeBitCast($0, to: Int.self) }) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            let source = DispatchSource.makeSignalSource(signal: number, queue: interruption.queue)
            source.setEventHandler { interruption.received(number) }
            source.resume()
            interruption.sources.append(source)
        }
        Console.onBrokenOutput { interruption.outputBroken() }
        return interruption
    }

    /// stdout or stderr lost its reader: the command stops as for SIGPIPE, whose default action (death, with the
    /// relay's names and temporary files left) the process no longer takes. Never escalates to a forced exit.
    func outputBroken() {
        queue.async { [self] in received(SIGPIPE, escalates: false) }
    }

    /// The task a first signal cancels (cancelled at once if a signal already came).
    func cancelOnSignal(_ task: Task<Void, any Error>) {
        let signalled = state.withLock { state in
            state.task = task
            return state.signal != nil
        }
        if signalled { task.cancel() }
    }

    /// Called once the command's task has ended. Without a signal it returns, and the process exits as the command
    /// said. After a signal it removes what temporary directories are left, says what happened and exits with
    /// 128 + the signal; if a forced exit is already under way, it waits for it.
    func finish(completed: Bool) async {
        let (signal, alreadyExiting) = state.withLock { state in
            defer { state.exiting = true }
            return (state.signal, state.exiting)
        }
        if alreadyExiting {
            while true { try? await Task.sleep(for: .seconds(60)) }
        }
        guard let signal else { return }
        let left = progress.pushes ? ScratchDirectories.removeOwn() : []
        progress.say(Self.report(signal, outcome: completed ? .completed : .cancelled, progress: progress, left: left))
        exit(128 + signal)
    }

    /// `escalates`: whether this, coming after a first signal, exits at once (a real second signal does).
    private func received(_ signal: Int32, escalates: Bool = true) {
        enum Action { case cancel(Task<Void, any Error>?), exitNow, nothing }
        let action = state.withLock { state -> Action in
            if state.exiting { return .nothing }
            guard state.signal != nil else {
                state.signal = signal
                return .cancel(state.task)
            }
            guard escalates else { return .nothing }
            state.exiting = true
            return .exitNow
        }
        switch action {
        case .nothing:
            return
        case .cancel(let task):
            progress.say(Self.notice(signal, progress: progress))
            task?.cancel()
            queue.asyncAfter(deadline: .now() + .seconds(Self.gracePeriod)) { [self] in gracePeriodEnded(signal) }
        case .exitNow:
            exitNow(signal, outcome: .again)
        }
    }

    private func gracePeriodEnded(_ signal: Int32) {
        let claimed = state.withLock { state in
            defer { state.exiting = true }
            return !state.exiting
        }
        if claimed { exitNow(signal, outcome: .notStopped) }
    }

    /// While other threads may still be working: `_exit`, because `exit` would run atexit handlers (OpenSSL's
    /// cleanup among them) under threads still hashing and compressing. The push cannot remove the names it gave the
    /// image for its relay now: they are removed here (on the signal queue, not Swift's pool), for a moment at most.
    private func exitNow(_ signal: Int32, outcome: Outcome) -> Never {
        let left = progress.pushes ? ScratchDirectories.removeOwn() : []
        let names = progress.pushes ? RelayNames.shared.removeLeft(timeout: Self.namesTimeout) : []
        progress.say(Self.report(signal, outcome: outcome, progress: progress, left: left, namesLeft: names))
        _exit(128 + signal)
    }
}
