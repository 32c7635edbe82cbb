import HTTPTransport
import Synchronization

/// The Engine's answers to reads made before the command knew it needed them, kept for the command's own read.
///
/// `push` starts by asking the Engine about its image (the image, its history, the local images its base is found
/// among). Reading the command line takes ArgumentParser 13-20 ms of a push that lasts 0.2 s, and those reads
/// depend on nothing the parse says but the image's name. Work run inside `EngineReadsAhead.$recording` sends its
/// `GET`s at once and leaves each answer here; the command's `GET` of the same URL on the same socket then takes
/// that answer instead of asking again. Another image, another Engine or an API version pinned on the command line
/// make another URL, so an early answer can never stand in for another read. Only reads: nothing the Engine does is
/// started ahead.
package final class EngineReadsAhead: Sendable {
    /// The process's store, where the command's reads look. A test binds a store of its own.
    @TaskLocal package static var current = EngineReadsAhead()

    /// True inside work started ahead of the command: its reads are sent and their answers kept in `current`.
    @TaskLocal package static var recording = false

    private struct Key: Hashable {
        var url: String
        var socketPath: String?
    }

    private let answers = Mutex<[Key: [Task<HTTPResponse, any Error>]]>([:])

    package init() {}

    /// How many answers are kept, not yet taken.
    package var count: Int { answers.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// Whether `request` is a read whose answer can be shared: a `GET` with no body and no header of its own.
    static func isShareable(_ request: HTTPRequest) -> Bool {
        guard request.method == "GET", request.headers.fields.isEmpty else { return false }
        if case .empty = request.body { return true }
        return false
    }

    /// `send`s `request`, or takes the answer a read ahead got for it. Recording: sends and keeps the answer (and
    /// returns it). Otherwise an answer kept for the same read is taken once; an early read that failed leaves the
    /// command to send its own, whose errors are its own.
    func answer(
        for request: HTTPRequest, send: @escaping @Sendable () async throws -> HTTPResponse
    ) async throws -> HTTPResponse {
        guard Self.isShareable(request) else { return try await send() }
        let key = Key(url: request.url, socketPath: request.unixSocketPath)
        if Self.recording {
            let task = Task { try await send() }
            answers.withLock { $0[key, default: []].append(task) }
            return try await task.value
        }
        let early = answers.withLock { answers -> Task<HTTPResponse, any Error>? in
            guard var kept = answers[key], !kept.isEmpty else { return nil }
            let first = kept.removeFirst()
            answers[key] = kept.isEmpty ? nil : kept
            return first
        }
        if let early, case .success(let response) = await early.result { return response }
        return try await send()
    }
}
