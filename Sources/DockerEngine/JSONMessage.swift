import Foundation

/// One line of the daemon's progress stream (build, push, pull): the fields of moby's `jsonmessage.JSONMessage`
/// that matter here.
struct JSONMessage: Decodable, Equatable, Sendable {
    struct ProgressDetail: Decodable, Equatable, Sendable {
        var current: Int64?
        var total: Int64?
    }

    struct ErrorDetail: Decodable, Equatable, Sendable {
        var code: Int?
        var message: String?
    }

    /// `aux` carries the built image's `ID` (build) or the pushed `Tag`/`Digest`/`Size` (push).
    struct Aux: Decodable, Equatable, Sendable {
        var id: String?
        var tag: String?
        var digest: String?
        var size: Int64?

        enum CodingKeys: String, CodingKey {
            case id = "ID", tag = "Tag", digest = "Digest", size = "Size"
        }
    }

    var stream: String?
    var status: String?
    var id: String?
    var progress: String?
    var progressDetail: ProgressDetail?
    var error: String?
    var errorDetail: ErrorDetail?
    var aux: Aux?

    /// The daemon's failure message, if this line reports one (`errorDetail.message` wins over `error`).
    var failureMessage: String? {
        if let message = errorDetail?.message, !message.isEmpty { return message }
        if let error, !error.isEmpty { return error }
        return nil
    }

    /// Decodes one line; a line that is not a progress object yields nil. `aux` of an unexpected shape is ignored.
    static func decode(_ line: [UInt8]) -> JSONMessage? {
        let decoder = JSONDecoder()
        if let message = try? decoder.decode(JSONMessage.self, from: Data(line)) { return message }
        // A lenient second try for an `aux` whose shape we do not know.
        guard let message = try? decoder.decode(WithoutAux.self, from: Data(line)) else { return nil }
        return message.value
    }

    private struct WithoutAux: Decodable {
        let value: JSONMessage

        enum CodingKeys: String, CodingKey {
            case stream, status, id, progress, progressDetail, error, errorDetail
        }

        init(from decoder: Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            value = JSONMessage(
                stream: try? container.decodeIfPresent(String.self, forKey: .stream),
                status: try? container.decodeIfPresent(String.self, forKey: .status),
                id: try? container.decodeIfPresent(String.self, forKey: .id),
                progress: try? container.decodeIfPresent(String.self, forKey: .progress),
                progressDetail: try? container.decodeIfPresent(ProgressDetail.self, forKey: .progressDetail),
                error: try? container.decodeIfPresent(String.self, forKey: .error),
                errorDetail: try? container.decodeIfPresent(ErrorDetail.self, forKey: .errorDetail),
                aux: nil)
        }
    }
}

/// Cuts a byte stream into lines as chunks arrive: a line may be split across any number of chunks.
/// Empty and whitespace-only lines are dropped; a trailing `\r` is removed.
struct JSONLineSplitter: Sendable {
    /// A runaway line (no newline for this many bytes) is an error rather than unbounded memory.
    static let maxLineLength = 16 << 20

    private var partial: [UInt8] = []

    init() {}

    /// The complete lines that `chunk` finishes.
    mutating func feed(_ chunk: UnsafeRawBufferPointer) throws -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var start = 0
        for index in 0..<chunk.count where chunk[index] == UInt8(ascii: "\n") {
            partial.append(contentsOf: chunk[start..<index])
            if let line = JSONLineSplitter.trimmed(partial) { lines.append(line) }
            partial.removeAll(keepingCapacity: true)
            start = index + 1
        }
        partial.append(contentsOf: chunk[start..<chunk.count])
        if partial.count > JSONLineSplitter.maxLineLength {
            throw DockerError.unexpectedResponse("a progress line longer than \(JSONLineSplitter.maxLineLength) bytes")
        }
        return lines
    }

    mutating func feed(_ bytes: [UInt8]) throws -> [[UInt8]] {
        try bytes.withUnsafeBytes { try feed($0) }
    }

    /// Whatever is left once the stream has ended (a last line without a newline).
    mutating func finish() -> [UInt8]? {
        defer { partial.removeAll() }
        return JSONLineSplitter.trimmed(partial)
    }

    private static func trimmed(_ line: [UInt8]) -> [UInt8]? {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0d || $0 == 0x0a }
        guard let first = line.firstIndex(where: { !isSpace($0) }), let last = line.lastIndex(where: { !isSpace($0) }) else { return nil }
        return Array(line[first...last])
    }
}

/// Turns streamed chunks into decoded messages, keeping the partial line between chunks. Called on the
/// transfer's thread, read afterwards from the caller's task: the lock makes that hand-over safe.
final class JSONMessageStream: @unchecked Sendable {
    private let lock = NSLock()
    private var splitter = JSONLineSplitter()
    private let handle: @Sendable (JSONMessage?, [UInt8]) -> Void

    /// `handle` gets each line decoded (nil when it is not a JSON message) with its raw bytes.
    init(handle: @escaping @Sendable (JSONMessage?, [UInt8]) -> Void) {
        self.handle = handle
    }

    func feed(_ chunk: UnsafeRawBufferPointer) throws {
        let lines = try lock.withLock { try splitter.feed(chunk) }
        for line in lines { handle(JSONMessage.decode(line), line) }
    }

    func finish() {
        if let line = lock.withLock({ splitter.finish() }) { handle(JSONMessage.decode(line), line) }
    }
}
