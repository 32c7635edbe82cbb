import Foundation
import SwiftProtobuf

extension BuildKitStatus {
    /// The payload of a `{"id":"moby.buildkit.trace","aux":"<base64>"}` line: base64 of a protobuf StatusResponse.
    package init(traceAux base64: String) throws {
        guard let bytes = Data(base64Encoded: base64) else { throw BuildKitError.malformedTrace("the payload is not base64") }
        try self.init(protobuf: bytes)
    }

    package init(protobuf bytes: Data) throws {
        let response: Moby_Buildkit_V1_StatusResponse
        do {
            response = try Moby_Buildkit_V1_StatusResponse(serializedBytes: bytes)
        } catch {
            throw BuildKitError.malformedTrace("not a StatusResponse: \(error)")
        }
        self.init(
            vertexes: response.vertexes.map { vertex in
                Vertex(
                    digest: vertex.digest, inputs: vertex.inputs, name: vertex.name, cached: vertex.cached,
                    started: vertex.hasStarted ? vertex.started.date : nil, completed: vertex.hasCompleted ? vertex.completed.date : nil,
                    error: vertex.error.isEmpty ? nil : vertex.error)
            },
            statuses: response.statuses.map { status in
                Progress(
                    id: status.id, vertex: status.vertex, name: status.name, current: status.current, total: status.total,
                    started: status.hasStarted ? status.started.date : nil, completed: status.hasCompleted ? status.completed.date : nil)
            },
            logs: response.logs.map { log in
                Log(vertex: log.vertex, timestamp: log.hasTimestamp ? log.timestamp.date : nil, stream: Int(log.stream), data: [UInt8](log.msg))
            },
            warnings: response.warnings.map { warning in
                Warning(
                    vertex: warning.vertex, short: String(decoding: warning.short, as: UTF8.self),
                    detail: warning.detail.map { String(decoding: $0, as: UTF8.self) }, url: warning.url)
            })
    }

    /// The protobuf encoding (tests build trace lines with it).
    package func protobufBytes() throws -> Data {
        var response = Moby_Buildkit_V1_StatusResponse()
        response.vertexes = vertexes.map { vertex in
            var out = Moby_Buildkit_V1_Vertex()
            out.digest = vertex.digest
            out.inputs = vertex.inputs
            out.name = vertex.name
            out.cached = vertex.cached
            if let started = vertex.started { out.started = Google_Protobuf_Timestamp(date: started) }
            if let completed = vertex.completed { out.completed = Google_Protobuf_Timestamp(date: completed) }
            out.error = vertex.error ?? ""
            return out
        }
        response.statuses = statuses.map { status in
            var out = Moby_Buildkit_V1_VertexStatus()
            out.id = status.id
            out.vertex = status.vertex
            out.name = status.name
            out.current = status.current
            out.total = status.total
            if let started = status.started { out.started = Google_Protobuf_Timestamp(date: started) }
            if let completed = status.completed { out.completed = Google_Protobuf_Timestamp(date: completed) }
            return out
        }
        response.logs = logs.map { log in
            var out = Moby_Buildkit_V1_VertexLog()
            out.vertex = log.vertex
            if let timestamp = log.timestamp { out.timestamp = Google_Protobuf_Timestamp(date: timestamp) }
            out.stream = Int64(log.stream)
            out.msg = Data(log.data)
            return out
        }
        response.warnings = warnings.map { warning in
            var out = Moby_Buildkit_V1_VertexWarning()
            out.vertex = warning.vertex
            out.short = Data(warning.short.utf8)
            out.detail = warning.detail.map { Data($0.utf8) }
            out.url = warning.url
            return out
        }
        return try response.serializedData()
    }
}
