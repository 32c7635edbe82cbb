import Foundation

/// One update of a BuildKit build's progress, as the Engine streams it (a `StatusResponse` per trace line).
/// Updates are incremental: a vertex appears again, keyed by its digest, each time its state changes.
package struct BuildKitStatus: Sendable, Equatable {
    /// A step of the build graph: `[2/3] RUN make`, `[internal] load metadata for …`.
    package struct Vertex: Sendable, Equatable {
        package var digest: String
        package var inputs: [String]
        package var name: String
        package var cached: Bool
        package var started: Date?
        package var completed: Date?
        /// Set when the step failed: BuildKit's message (`process "/bin/sh -c make" did not complete successfully: exit code: 2`).
        package var error: String?

        package init(
            digest: String, inputs: [String] = [], name: String, cached: Bool = false, started: Date? = nil, completed: Date? = nil,
            error: String? = nil
        ) {
            self.digest = digest
            self.inputs = inputs
            self.name = name
            self.cached = cached
            self.started = started
            self.completed = completed
            self.error = error
        }
    }

    /// Progress of a part of a step: a layer being pulled or extracted, a file being sent.
    package struct Progress: Sendable, Equatable {
        package var id: String
        package var vertex: String
        package var name: String
        package var current: Int64
        package var total: Int64
        package var started: Date?
        package var completed: Date?

        package init(
            id: String, vertex: String, name: String = "", current: Int64 = 0, total: Int64 = 0, started: Date? = nil,
            completed: Date? = nil
        ) {
            self.id = id
            self.vertex = vertex
            self.name = name
            self.current = current
            self.total = total
            self.started = started
            self.completed = completed
        }
    }

    /// Output of a step (a RUN's stdout or stderr), in pieces as they were written: a piece may hold several lines
    /// or part of one.
    package struct Log: Sendable, Equatable {
        package var vertex: String
        package var timestamp: Date?
        /// 1 stdout, 2 stderr.
        package var stream: Int
        package var data: [UInt8]

        package init(vertex: String, timestamp: Date? = nil, stream: Int = 1, data: [UInt8]) {
            self.vertex = vertex
            self.timestamp = timestamp
            self.stream = stream
            self.data = data
        }
    }

    package struct Warning: Sendable, Equatable {
        package var vertex: String
        package var short: String
        package var detail: [String]
        package var url: String

        package init(vertex: String, short: String, detail: [String] = [], url: String = "") {
            self.vertex = vertex
            self.short = short
            self.detail = detail
            self.url = url
        }
    }

    package var vertexes: [Vertex]
    package var statuses: [Progress]
    package var logs: [Log]
    package var warnings: [Warning]

    package init(vertexes: [Vertex] = [], statuses: [Progress] = [], logs: [Log] = [], warnings: [Warning] = []) {
        self.vertexes = vertexes
        self.statuses = statuses
        self.logs = logs
        self.warnings = warnings
    }
}
