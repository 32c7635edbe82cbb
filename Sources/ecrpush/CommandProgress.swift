import ECRPushKit
import Synchronization

/// What the running command has done that the report of an interrupt must mention: which tags the registry may
/// already show. `ECRPush.main` sets it for the command's task; `PushRunner` feeds it every workflow event.
final class CommandProgress: Sendable {
    @TaskLocal static var current: CommandProgress?

    private struct Tags {
        var requested: [String] = []
        var confirmed: Set<String> = []
    }

    /// The subcommand's name: "push", "build-and-push", "login", …
    let command: String
    private let tags = Mutex(Tags())
    /// The command's progress display, if it has one: lines printed meanwhile must not tear it apart.
    private let display = Mutex<ProgressRenderer?>(nil)

    init(command: String) {
        self.command = command
    }

    /// push and build-and-push: the commands that write temporary files and move tags.
    var pushes: Bool { command == "push" || command == "build-and-push" }

    /// The commands whose interrupt report says which tags moved: the pushes, and `tag`.
    var movesTags: Bool { pushes || command == "tag" }

    func show(on renderer: ProgressRenderer) {
        display.withLock { $0 = renderer }
    }

    /// Prints `line` on stderr, below any live progress display (even with -q: it answers a signal the user sent).
    func say(_ line: String) {
        if let renderer = display.withLock({ $0 }) { renderer.interject(line) } else { Console.err(line) }
    }

    func record(_ event: WorkflowEvent) {
        switch event {
        case .tagging(let tag): tags.withLock { if !$0.requested.contains(tag) { $0.requested.append(tag) } }
        case .tagged(let tag): tags.withLock { _ = $0.confirmed.insert(tag) }
        case .info, .build, .buildKit, .session, .push: break
        }
    }

    /// Tags the registry confirmed, and tags whose request went out unanswered (the registry may have moved them).
    var tagState: (tagged: [String], uncertain: [String]) {
        tags.withLock { state in
            (state.requested.filter { state.confirmed.contains($0) }, state.requested.filter { !state.confirmed.contains($0) })
        }
    }
}
