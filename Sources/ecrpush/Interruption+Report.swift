import Foundation

/// The lines an interrupt prints: each says only what is true at that moment.
extension Interruption {
    enum Outcome {
        /// The command stopped after its task was cancelled.
        case cancelled
        /// The command had finished its work before the cancellation reached it.
        case completed
        /// The command had not stopped `gracePeriod` seconds after the signal.
        case notStopped
        /// A second signal came while the command was stopping.
        case again
    }

    static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        case SIGPIPE: return "SIGPIPE"
        default: return "signal \(signal)"
        }
    }

    /// Printed as soon as the first signal arrives, before the command has stopped.
    static func notice(_ signal: Int32, progress: CommandProgress) -> String {
        if signal == SIGPIPE { return "ecrpush: SIGPIPE: the output's reader went away; stopping the \(progress.command)" }
        let again = signal == SIGINT ? "Ctrl-C again to exit at once" : "a second signal exits at once"
        return "ecrpush: \(name(signal)): stopping the \(progress.command) (\(again))"
    }

    /// The last line before the exit. `left`: temporary directories that could not be removed; `namesLeft`: the
    /// relay's names for the image the Engine may still have.
    static func report(_ signal: Int32, outcome: Outcome, progress: CommandProgress, left: [String], namesLeft: [String] = []) -> String {
        let command = progress.command
        var line: String
        switch outcome {
        case .cancelled: line = "ecrpush: interrupted (\(name(signal))): \(command) cancelled"
        case .completed: line = "ecrpush: interrupted (\(name(signal))) as the \(command) finished: it had completed"
        case .notStopped: line = "ecrpush: interrupted (\(name(signal))): the \(command) did not stop within \(gracePeriod) s; exiting anyway"
        case .again: line = "ecrpush: interrupted again (\(name(signal))): exiting at once"
        }
        guard progress.movesTags else { return line }
        if progress.pushes {
            line +=
                left.isEmpty
                ? ", temporary files removed"
                : ", but temporary files could not all be removed: remove \(left.joined(separator: " ")) yourself"
            if !namesLeft.isEmpty {
                line +=
                    "; the Engine may still name the image \(namesLeft.joined(separator: ", ")) (ecrpush's relay): `docker rmi "
                    + namesLeft.joined(separator: " ") + "` removes them"
            }
        }
        let (tagged, uncertain) = progress.tagState
        var tags: [String] = []
        if !tagged.isEmpty { tags.append("tagged: \(tagged.joined(separator: ", "))") }
        if !uncertain.isEmpty {
            tags.append("\(uncertain.joined(separator: ", ")) may have been tagged (the request was cut off; check the registry)")
        }
        return line + "; " + (tags.isEmpty ? "nothing was tagged" : tags.joined(separator: "; "))
    }
}
