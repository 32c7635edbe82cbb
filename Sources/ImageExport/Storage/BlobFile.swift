#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file being written with `write(2)`. Small writes are gathered into a buffer of `bufferSize` bytes;
/// writes at least that big go straight to the file (the compressor already hands over full buffers).
final class BlobFile {
    let path: String
    private var descriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    /// Bytes handed to write(2) so far (what a reader of the file can see).
    private(set) var bytesOnDisk: Int64 = 0
    /// Called after each write(2) with `bytesOnDisk` (a `GrowingLayer`'s reader follows it).
    var onWritten: ((Int64) -> Void)?

    /// Creates `path`, which must not exist yet.
    init(creating path: String, bufferSize: Int = 256 * 1024) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw BlobFile.error(errno, path: path, operation: "create") }
        buffer = .allocate(byteCount: max(bufferSize, 4096), alignment: 16)
    }

    deinit {
        if descriptor >= 0 { _ = posixClose(descriptor) }
        buffer.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        if buffered + bytes.count <= buffer.count {
            (buffer.baseAddress! + buffered).copyMemory(from: source, byteCount: bytes.count)
            buffered += bytes.count
            if buffered == buffer.count { try flush() }
            return
        }
        try flush()
        if bytes.count >= buffer.count {
            try writeThrough(bytes)
        } else {
            buffer.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
            buffered = bytes.count
        }
    }

    private func flush() throws {
        guard buffered > 0 else { return }
        let count = buffered
        buffered = 0
        try writeThrough(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
    }

    private func writeThrough(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = posixWrite(descriptor, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw BlobFile.error(errno, path: path, operation: "write")
            }
            base += written
            remaining -= written
            bytesOnDisk += Int64(written)
        }
        onWritten?(bytesOnDisk)
    }

    func close() throws {
        guard descriptor >= 0 else { return }
        try flush()
        let result = posixClose(descriptor)
        descriptor = -1
        // close(2) can report a delayed write error (ENOSPC, EIO on network file systems).
        if result != 0 && errno != EINTR { throw BlobFile.error(errno, path: path, operation: "close") }
    }

    static func error(_ code: Int32, path: String, operation: String) -> ImageExportError {
        if code == ENOSPC || code == EDQUOT { return .diskFull(path: path) }
        return .io(path: path, operation: operation, reason: String(cString: strerror(code)))
    }

    /// Reads a whole file (for the rare config or manifest that was streamed to disk), up to `limit` bytes.
    static func readAll(path: String, limit: Int) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw error(errno, path: path, operation: "open") }
        defer { _ = posixClose(descriptor) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { posixRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw error(errno, path: path, operation: "read")
            }
            if count == 0 { return out }
            guard out.count + count <= limit else {
                throw ImageExportError.entryTooLarge(path: path, size: Int64(out.count + count), limit: Int64(limit))
            }
            out.append(contentsOf: buffer[0..<count])
        }
    }
}

// Free functions, so the methods named write/close above don't shadow the system calls.
private func posixClose(_ descriptor: Int32) -> Int32 { close(descriptor) }
private func posixWrite(_ descriptor: Int32, _ base: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, base, count) }
private func posixRead(_ descriptor: Int32, _ base: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(descriptor, base, count) }
