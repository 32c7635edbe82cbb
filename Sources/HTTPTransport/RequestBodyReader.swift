internal import CCurl
import Foundation

/// Feeds a request body to curl's READFUNCTION, a buffer at a time; files and streams are never read whole.
final class RequestBodyReader {
    private enum Source {
        case bytes([UInt8])
        case file(descriptor: Int32, start: Int64, path: String)
        case stream(@Sendable (UnsafeMutableRawBufferPointer) throws -> Int)
    }

    private let source: Source
    /// nil: unknown, sent with chunked transfer encoding.
    let length: Int64?
    private(set) var position: Int64 = 0

    /// Opens `.file` bodies now, so a missing file is reported before anything is sent.
    init(_ body: HTTPBody) throws {
        switch body {
        case .empty:
            source = .bytes([])
            length = 0
        case .bytes(let bytes):
            source = .bytes(bytes)
            length = Int64(bytes.count)
        case .stream(let length, let producer):
            source = .stream(producer)
            self.length = length
        case .file(let path, let offset, let requestedLength):
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw HTTPError.invalidRequest("cannot open body file \(path): \(String(cString: strerror(errno)))")
            }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else {
                let message = String(cString: strerror(errno))
                close(descriptor)
                throw HTTPError.invalidRequest("cannot read body file \(path): \(message)")
            }
            let available = Int64(info.st_size) - offset
            let wanted = requestedLength ?? available
            guard available >= 0, wanted <= available else {
                close(descriptor)
                throw HTTPError.invalidRequest(
                    "body file \(path) has \(info.st_size) bytes, fewer than offset \(offset) + length \(wanted)")
            }
            source = .file(descriptor: descriptor, start: offset, path: path)
            length = wanted
        }
    }

    deinit {
        if case .file(let descriptor, _, _) = source { close(descriptor) }
    }

    /// Fills `buffer` with the next bytes, 0 at the end. Throws when the source fails or delivers a length other
    /// than announced (a short body would leave the server waiting; a long one would corrupt the connection).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var window = buffer
        if let length {
            let remaining = length - position
            if remaining <= 0 { return 0 }
            if Int64(window.count) > remaining {
                window = UnsafeMutableRawBufferPointer(rebasing: window[..<Int(remaining)])
            }
        }
        let count: Int
        switch source {
        case .bytes(let bytes):
            let start = Int(position)
            let end = min(bytes.count, start + window.count)
            count = end - start
            if count > 0 {
                bytes.withUnsafeBytes { all in
                    window.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[start..<end]))
                }
            }
        case .file(let descriptor, let start, let path):
            var readCount: Int
            repeat {
                readCount = pread(descriptor, window.baseAddress, window.count, off_t(start + position))
            } while readCount < 0 && errno == EINTR
            guard readCount >= 0 else {
                throw BodySourceError("reading body file \(path) failed: \(String(cString: strerror(errno)))")
            }
            count = readCount
        case .stream(let producer):
            count = try producer(window)
            guard count >= 0, count <= window.count else {
                throw BodySourceError("the body producer reported \(count) bytes for a \(window.count)-byte buffer")
            }
        }
        if count == 0, let length, position < length {
            throw BodySourceError("the request body ended after \(position) of the \(length) bytes announced")
        }
        position += Int64(count)
        return count
    }

    /// Rewinds for curl when it must resend (a kept-alive connection that turned out dead). A stream can only
    /// "seek" to where it already is.
    func seek(to offset: Int64) -> Bool {
        guard offset >= 0, offset <= (length ?? offset) else { return false }
        switch source {
        case .bytes, .file:
            position = offset
            return true
        case .stream:
            return offset == position
        }
    }
}

/// Why a request body could not be produced; surfaces as `HTTPError.bodyCallbackFailed`'s underlying error.
struct BodySourceError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
