import Foundation

/// The state of a BuildKit build as its trace arrives: the steps in the order they appeared, their times, their
/// output. It turns each update into the lines `docker buildx build --progress=plain` would print, draws the compact
/// view a terminal gets, and keeps the last lines of each step's output for the report of a failure.
package struct BuildKitProgress: Sendable {
    /// How many lines of a step's output are kept for the failure report and shown under a running step on a TTY.
    package static let tailLength = 10

    struct Step: Sendable {
        var vertex: BuildKitStatus.Vertex
        /// `#N` in plain output, given when the step first prints something.
        var number: Int?
        var tail: [String] = []
        /// A log line not ended yet (BuildKit forwards output as it is written).
        var partial: [UInt8] = []
        var printedCached = false
        var printedEnd = false
        var finishedStatuses: Set<String> = []

        var isRunning: Bool { vertex.started != nil && vertex.completed == nil && vertex.error == nil }
    }

    /// The step that failed, its error, and the last lines it printed.
    package struct Failure: Sendable, Equatable {
        package var step: String
        package var error: String
        package var lastLines: [String]
    }

    private var order: [String] = []
    private var steps: [String: Step] = [:]
    private var nextNumber = 1
    /// The digest of the step whose block plain output is in: another step's lines start with a blank line and its header.
    private var current: String?
    private(set) package var warnings: [String] = []
    package let startedAt: Date

    package init(startedAt: Date = Date()) {
        self.startedAt = startedAt
    }

    /// Takes in one update; returns the plain-progress lines it adds.
    package mutating func absorb(_ status: BuildKitStatus) -> [String] {
        var lines: [String] = []
        for vertex in status.vertexes {
            if steps[vertex.digest] == nil {
                order.append(vertex.digest)
                steps[vertex.digest] = Step(vertex: vertex)
            } else {
                steps[vertex.digest]!.vertex = merged(steps[vertex.digest]!.vertex, vertex)
            }
            let step = steps[vertex.digest]!
            if step.vertex.started != nil || step.vertex.cached { lines += header(for: vertex.digest) }
        }
        for progress in status.statuses where progress.completed != nil {
            guard var step = steps[progress.vertex], !step.finishedStatuses.contains(progress.id) else { continue }
            step.finishedStatuses.insert(progress.id)
            steps[progress.vertex] = step
            lines += header(for: progress.vertex)
            let size = progress.total > 0 ? " \(Self.bytes(progress.current)) / \(Self.bytes(progress.total))" : ""
            lines.append("#\(steps[progress.vertex]!.number!) \(progress.name.isEmpty ? progress.id : progress.name)\(size) done")
        }
        for log in status.logs {
            guard steps[log.vertex] != nil else { continue }
            var step = steps[log.vertex]!
            step.partial += log.data
            var complete: [String] = []
            while let newline = step.partial.firstIndex(of: UInt8(ascii: "\n")) {
                complete.append(Self.text(step.partial[..<newline]))
                step.partial.removeSubrange(...newline)
            }
            step.tail = Array((step.tail + complete).suffix(Self.tailLength))
            steps[log.vertex] = step
            guard !complete.isEmpty else { continue }
            lines += header(for: log.vertex)
            let offset = offsetText(log.timestamp, from: step.vertex.started)
            for line in complete { lines.append("#\(steps[log.vertex]!.number!)\(offset) \(line)") }
        }
        for warning in status.warnings {
            let text = "WARNING: \(warning.short)"
            warnings.append(text)
            if steps[warning.vertex] != nil {
                lines += header(for: warning.vertex)
                lines.append("#\(steps[warning.vertex]!.number!) \(text)")
            } else {
                lines.append(text)
            }
        }
        for vertex in status.vertexes { lines += ending(for: vertex.digest) }
        return lines
    }

    /// A later update of a vertex only says what changed; keep what earlier ones said.
    private func merged(_ old: BuildKitStatus.Vertex, _ new: BuildKitStatus.Vertex) -> BuildKitStatus.Vertex {
        var vertex = new
        if vertex.name.isEmpty { vertex.name = old.name }
        if vertex.inputs.isEmpty { vertex.inputs = old.inputs }
        vertex.started = new.started ?? old.started
        vertex.completed = new.completed ?? old.completed
        vertex.cached = new.cached || old.cached
        vertex.error = new.error ?? old.error
        return vertex
    }

    /// Opens the step's block in plain output: a blank line and `#N name` when another step printed last.
    private mutating func header(for digest: String) -> [String] {
        guard var step = steps[digest] else { return [] }
        var lines: [String] = []
        if step.number == nil {
            step.number = nextNumber
            nextNumber += 1
        }
        if current != digest {
            if current != nil { lines.append("") }
            lines.append("#\(step.number!) \(step.vertex.name)")
            current = digest
        }
        steps[digest] = step
        return lines
    }

    /// CACHED, DONE or ERROR, once.
    private mutating func ending(for digest: String) -> [String] {
        guard var step = steps[digest], !step.printedEnd else { return [] }
        var lines: [String] = []
        if step.vertex.cached, !step.printedCached {
            lines += header(for: digest)
            lines.append("#\(steps[digest]!.number!) CACHED")
            step = steps[digest]!
            step.printedCached = true
        }
        if step.vertex.completed != nil || step.vertex.error != nil {
            // A last line without a newline is shown before the step ends.
            if !step.partial.isEmpty {
                let rest = Self.text(step.partial[...])
                step.partial = []
                step.tail = Array((step.tail + [rest]).suffix(Self.tailLength))
                steps[digest] = step
                lines += header(for: digest)
                lines.append("#\(steps[digest]!.number!) \(rest)")
                step = steps[digest]!
            }
            if let error = step.vertex.error {
                lines += header(for: digest)
                lines.append("#\(steps[digest]!.number!) ERROR: \(error)")
                step = steps[digest]!
            } else if !step.vertex.cached {
                lines += header(for: digest)
                lines.append("#\(steps[digest]!.number!) DONE \(Self.seconds(from: step.vertex.started, to: step.vertex.completed))")
                step = steps[digest]!
            }
            step.printedEnd = true
        }
        steps[digest] = step
        return lines
    }

    /// The failed step, if one failed (the first, in the order steps appeared).
    package var failure: Failure? {
        for digest in order {
            guard let step = steps[digest], let error = step.vertex.error else { continue }
            // BuildKit marks the steps that waited on a failed one as cancelled; the cause is the one that did not.
            if error.contains("context canceled")
                && order.contains(where: { other in
                    other != digest && steps[other]?.vertex.error.map { !$0.contains("context canceled") } == true
                })
            {
                continue
            }
            return Failure(step: step.vertex.name, error: error, lastLines: step.tail)
        }
        return nil
    }

    /// Steps finished (done, cached or failed) and known, as `[+] Building 3.2s (5/7)` counts them.
    package var counts: (finished: Int, total: Int) {
        let finished = order.filter { steps[$0]!.vertex.completed != nil || steps[$0]!.vertex.cached }.count
        return (finished, order.count)
    }

    /// The compact live view for a terminal: a heading, one line per step that has started, and the last lines of
    /// what running steps print. Lines are cut to `width`.
    package func frame(now: Date, width: Int, logLines: Int = 6) -> [String] {
        let (finished, total) = counts
        var lines = ["[+] Building \(Self.seconds(from: startedAt, to: now)) (\(finished)/\(total))"]
        for digest in order {
            guard let step = steps[digest], step.vertex.started != nil || step.vertex.cached else { continue }
            let prefix = step.vertex.error != nil ? " => ERROR " : step.vertex.cached ? " => CACHED " : " => "
            let time = step.vertex.cached ? "0.0s" : Self.seconds(from: step.vertex.started, to: step.vertex.completed ?? now)
            lines.append(Self.fit(prefix + step.vertex.name, right: time, width: width))
            if step.isRunning {
                for line in step.tail.suffix(logLines) { lines.append(Self.fit(" => => # " + line, right: "", width: width)) }
            }
        }
        return lines
    }

    private func offsetText(_ timestamp: Date?, from started: Date?) -> String {
        guard let timestamp, let started else { return "" }
        return String(format: " %.3f", max(0, timestamp.timeIntervalSince(started)))
    }

    static func seconds(from start: Date?, to end: Date?) -> String {
        guard let start, let end else { return "0.0s" }
        return String(format: "%.1fs", max(0, end.timeIntervalSince(start)))
    }

    static func fit(_ left: String, right: String, width: Int) -> String {
        let room = max(10, width - right.count - 1)
        let text = left.count > room ? String(left.prefix(room - 1)) + "…" : left
        guard !right.isEmpty else { return text }
        return text + String(repeating: " ", count: max(1, width - text.count - right.count)) + right
    }

    /// Output as text; control characters other than tab would garble a log or a terminal.
    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        var line = String(decoding: bytes, as: UTF8.self)
        if line.hasSuffix("\r") { line.removeLast() }
        return String(String.UnicodeScalarView(line.unicodeScalars.map { $0.value < 0x20 && $0 != "\t" ? " " : $0 }))
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "kB", "MB", "GB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count)B" : String(format: "%.2f%@", value, units[unit])
    }
}
