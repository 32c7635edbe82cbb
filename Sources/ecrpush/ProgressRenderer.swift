import BuildKitSession
import DockerEngine
import ECRPushKit
import Foundation
import HTTPTransport
import Synchronization

/// Shows build output and push progress on stderr: build text as it comes; push progress as one live line per
/// layer on a TTY (bytes done / total, rate, "exists" for a skipped layer), redrawn at most every 100 ms; in CI
/// logs, a line when a layer changes state plus one every few seconds while it uploads (never one per chunk).
/// Silent with `-q`. Every write happens under one lock, so parallel uploads never interleave their output.
final class ProgressRenderer: Sendable {
    private struct Layer {
        var status: PushStatus
        var current: Int64?
        var total: Int64?
        var started: ContinuousClock.Instant?
        var finished: ContinuousClock.Instant?
        var lastLogged: ContinuousClock.Instant?
    }

    private struct State {
        var layerOrder: [String] = []
        var layers: [String: Layer] = [:]
        var drawnLines = 0
        var lastDraw: ContinuousClock.Instant?
        /// BuildKit's live view on a TTY: the latest state, and whether the screen shows it yet.
        var buildKit: BuildKitProgress?
        var buildKitDrawn = true
    }

    private let quiet: Bool
    private let live: Bool
    /// In CI logs: how often an uploading layer gets a progress line.
    private let logInterval: Duration
    private let redrawInterval: Duration = .milliseconds(100)
    private let state = Mutex(State())
    private let clock = ContinuousClock()

    init(quiet: Bool, live: Bool = Console.stderrIsTTY, logInterval: Duration = .seconds(5)) {
        self.quiet = quiet
        self.live = live
        self.logInterval = logInterval
    }

    func handle(_ event: WorkflowEvent) {
        guard !quiet else { return }
        switch event {
        case .info(let text):
            state.withLock { state in
                Self.finishLive(&state)
                Console.err(text)
            }
        case .build(let build):
            render(build)
        case .buildKit(let update):
            render(update)
        case .session(let event):
            state.withLock { state in
                guard let line = Self.line(for: event) else { return }
                Self.finishLive(&state)
                Console.err(line)
            }
        case .push(let push):
            render(push)
        case .tagging, .tagged:
            break  // kept for the report of an interrupted push (CommandProgress); the info lines say the digest
        }
    }

    /// A line from outside the command (an interrupt), printed below the live display even with `-q`.
    /// Draws BuildKit's last state once the build has ended (the last update may have come within 100 ms).
    func finishBuild() {
        state.withLock { Self.finishLive(&$0) }
    }

    func interject(_ line: String) {
        state.withLock { state in
            Self.finishLive(&state)
            Console.err(line)
        }
    }

    private func render(_ event: BuildEvent) {
        switch event {
        case .output(let text):
            state.withLock { state in
                Self.finishLive(&state)
                Console.write(text, to: STDERR_FILENO)
            }
        case .status(let id, let status, _):
            state.withLock { state in
                Self.finishLive(&state)
                Console.err(id.map { "\($0): \(status)" } ?? status)
            }
        case .imageID, .error, .trace:
            break  // the result and the error are reported by the command; traces come decoded as .buildKit
        }
    }

    /// BuildKit's progress: plain lines as docker buildx prints them in logs; on a TTY, a compact view redrawn at
    /// most every 100 ms (the latest state is drawn before anything else prints).
    private func render(_ update: BuildKitUpdate) {
        let now = clock.now
        state.withLock { state in
            guard live else {
                for line in update.lines { Console.err(line) }
                return
            }
            state.buildKit = update.progress
            state.buildKitDrawn = false
            if let last = state.lastDraw, last.duration(to: now) < redrawInterval { return }
            state.lastDraw = now
            Self.drawBuildKit(&state)
        }
    }

    private static func drawBuildKit(_ state: inout State) {
        guard let progress = state.buildKit, !state.buildKitDrawn else { return }
        let lines = progress.frame(now: Date(), width: Console.terminalWidth)
        var text = state.drawnLines > 0 ? "\u{1B}[\(state.drawnLines)A" : ""
        for line in lines { text += "\u{1B}[2K" + line + "\n" }
        // A frame shorter than the last one: clear what is left below it.
        if state.drawnLines > lines.count { text += "\u{1B}[J" }
        state.drawnLines = lines.count
        state.buildKitDrawn = true
        Console.write(text, to: STDERR_FILENO)
    }

    /// What the build session did, for stderr; nil when it is not worth a line.
    private static func line(for event: SessionEvent) -> String? {
        switch event {
        case .secretServed, .credentialsAnonymous, .sshAgentChecked: return nil
        case .secretMissing(let id): return "Build session: the build asked for secret '\(id)', which was not given (--secret id=\(id),…)"
        case .credentialsServed(let host): return "Build session: registry login for \(host) given to the build"
        case .credentialsFailed(let host, let reason): return "Build session: no registry login for \(host): \(reason)"
        case .sshAgentMissing(let id): return "Build session: the build asked for SSH agent '\(id)', which was not given (--ssh \(id)[=SOCKET])"
        case .sshAgentFailed(let id, let reason): return "Build session: SSH agent '\(id)': \(reason)"
        case .sshRequestRefused(let id, let type):
            return "Build session: refused a request to change SSH agent '\(id)' (agent message \(type)): it is forwarded read-only"
        }
    }

    private func render(_ event: PushEvent) {
        guard let status = event.status else { return }
        let now = clock.now
        state.withLock { state in
            guard let id = event.id, event.result == nil else {
                Self.finishLive(&state)
                Console.err(status.description)
                return
            }
            var layer = state.layers[id] ?? Layer(status: status)
            if state.layers[id] == nil { state.layerOrder.append(id) }
            let changed = layer.status != status || state.layers[id] == nil
            layer.status = status
            if let progress = event.progress {
                layer.current = progress.current ?? layer.current
                layer.total = progress.total ?? layer.total
            }
            if status == .pushing, layer.started == nil { layer.started = now }
            if status == .pushed, layer.finished == nil { layer.finished = now }
            var logNow = changed
            if !live, status == .pushing, !changed, let last = layer.lastLogged, last.duration(to: now) >= logInterval {
                logNow = true
            }
            if logNow { layer.lastLogged = now }
            state.layers[id] = layer

            if live {
                if !changed, let last = state.lastDraw, last.duration(to: now) < redrawInterval { return }
                state.lastDraw = now
                var text = state.drawnLines > 0 ? "\u{1B}[\(state.drawnLines)A" : ""
                for key in state.layerOrder {
                    text += "\u{1B}[2K" + Self.line(id: key, layer: state.layers[key]!, now: now, bar: true) + "\n"
                }
                state.drawnLines = state.layerOrder.count
                Console.write(text, to: STDERR_FILENO)
            } else if logNow {
                Console.err(Self.line(id: id, layer: layer, now: now, bar: false))
            }
        }
    }

    /// One layer's line: status, then bytes, total and rate while uploading (or once pushed).
    private static func line(id: String, layer: Layer, now: ContinuousClock.Instant, bar: Bool) -> String {
        if layer.status == .alreadyExists {
            // Short on a TTY; the registry's own words in logs, which people grep for.
            return "\(id): " + (bar ? "exists" : layer.status.description) + (layer.total.map { " (\(bytes($0)))" } ?? "")
        }
        var line = "\(id): \(layer.status.description)"
        guard let current = layer.current, let total = layer.total, total > 0 else { return line }
        let elapsed = layer.started.map { $0.duration(to: layer.finished ?? now).inSeconds } ?? 0
        let rate = elapsed > 0.05 ? " \(bytes(Int64(Double(current) / elapsed)))/s" : ""
        let done = doneOfTotal(current: current, total: total, bar: bar)
        switch layer.status {
        case .pushing:
            line += done + rate
        case .pushed:
            line += " \(bytes(max(current, total)))" + (elapsed > 0.05 ? " in \(String(format: "%.1f", elapsed))s," + rate : "")
        default:
            if bar { line += done }
        }
        return line
    }

    /// " [====  ] 3.0MiB/7.5MiB"; the count alone (as docker's CLI shows it) where it has passed the total: the Engine
    /// counts a layer's tar, headers and padding included, against the size of its files, so a small layer's count
    /// runs past that "total" ("512B/17B"), which then says nothing.
    private static func doneOfTotal(current: Int64, total: Int64, bar: Bool) -> String {
        guard current <= total else { return " \(bytes(current))" }
        return (bar ? " \(Self.bar(current: current, total: total))" : "") + " \(bytes(current))/\(bytes(total))"
    }

    /// Stops redrawing the live block so the next lines print below it.
    private static func finishLive(_ state: inout State) {
        drawBuildKit(&state)
        state.buildKit = nil
        state.buildKitDrawn = true
        state.layerOrder = []
        state.layers = [:]
        state.drawnLines = 0
        state.lastDraw = nil
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
