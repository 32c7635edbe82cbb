import DockerEngine
import ECRPushKit
import Foundation
import Synchronization

/// Shows build output and push progress on stderr: build text as it comes; push progress as one live line per
/// layer on a TTY, or as plain lines when a layer changes state (CI logs). Silent with `-q`.
final class ProgressRenderer: Sendable {
    private struct State {
        var layerOrder: [String] = []
        var layerLines: [String: String] = [:]
        var lastStatus: [String: String] = [:]
        var drawnLines = 0
    }

    private let quiet: Bool
    private let live: Bool
    private let state = Mutex(State())

    init(quiet: Bool, live: Bool = Console.stderrIsTTY) {
        self.quiet = quiet
        self.live = live
    }

    func handle(_ event: WorkflowEvent) {
        guard !quiet else { return }
        switch event {
        case .info(let text):
            finishLive()
            Console.err(text)
        case .build(let build):
            render(build)
        case .push(let push):
            render(push)
        }
    }

    private func render(_ event: BuildEvent) {
        switch event {
        case .output(let text):
            FileHandle.standardError.write(Data(text.utf8))
        case .status(let id, let status, _):
            Console.err(id.map { "\($0): \(status)" } ?? status)
        case .imageID, .error:
            break  // the result and the error are reported by the command
        }
    }

    private func render(_ event: PushEvent) {
        guard let status = event.status else { return }
        guard let id = event.id, event.result == nil else {
            finishLive()
            Console.err(status)
            return
        }
        var line = "\(id): \(status)"
        if let progress = event.progress, let current = progress.current, let total = progress.total, total > 0 {
            line += " \(Self.bar(current: current, total: total)) \(Self.bytes(current))/\(Self.bytes(total))"
        }
        if live {
            state.withLock { state in
                if state.layerLines[id] == nil { state.layerOrder.append(id) }
                state.layerLines[id] = line
                var text = state.drawnLines > 0 ? "\u{1B}[\(state.drawnLines)A" : ""
                for layer in state.layerOrder { text += "\u{1B}[2K" + (state.layerLines[layer] ?? "") + "\n" }
                state.drawnLines = state.layerOrder.count
                FileHandle.standardError.write(Data(text.utf8))
            }
        } else {
            let changed = state.withLock { state -> Bool in
                defer { state.lastStatus[id] = status }
                return state.lastStatus[id] != status
            }
            if changed { Console.err("\(id): \(status)") }
        }
    }

    /// Stops redrawing the live block so the next lines print below it.
    private func finishLive() {
        state.withLock { state in
            state.layerOrder = []
            state.layerLines = [:]
            state.drawnLines = 0
        }
    }

    static func bar(current: Int64, total: Int64, width: Int = 20) -> String {
        let filled = Int(Double(width) * min(1, Double(current) / Double(total)))
        return "[" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled) + "]"
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(count)B" : String(format: "%.1f%@", value, units[unit])
    }
}
