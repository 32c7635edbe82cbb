import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A layer whose compressed file is still being written: its upload can start before compression ends, reading
/// the file as it grows (`read(into:)` waits for the writer), so compressing and sending a big layer overlap
/// instead of following each other. The digest and size are known only once the writer is done (`completion`).
///
/// The writer (the export's feeding thread) reports bytes as they reach the file and then completes or fails it;
/// the reader (an upload's transfer thread, never Swift's cooperative pool: `read(into:)` blocks) follows.
package final class GrowingLayer: @unchecked Sendable {
    /// What the finished file holds.
    package struct Completion: Sendable, Equatable {
        /// `sha256:<hex>` of the compressed file: the blob digest.
        package let digest: String
        package let size: Int64
        /// `sha256:<hex>` of the uncompressed tar.
        package let diffID: String
    }

    package enum GrowingLayerError: Error, CustomStringConvertible {
        case abandoned(String)

        package var description: String {
            switch self {
            case .abandoned(let why): "the layer being compressed was abandoned: \(why)"
            }
        }
    }

    /// The temporary file (the layer's `ExportedLayer.path` once complete).
    package let path: String
    /// The uncompressed size the archive announced for the entry.
    package let uncompressedSize: Int64
    package let compression: LayerCompression
    /// The archive entry's name, shown in progress before the digest is known (`blob-…` for an unnamed one).
    package let entryName: String

    private let condition = NSCondition()
    private var written: Int64 = 0
    private var consumed: Int64 = 0
    private var finished: Completion?
    private var failure: String?
    private var waiters: [CheckedContinuation<Completion, any Error>] = []

    init(path: String, uncompressedSize: Int64, compression: LayerCompression, entryName: String) {
        self.path = path
        self.uncompressedSize = uncompressedSize
        self.compression = compression
        self.entryName = entryName
    }

    /// A short name for progress lines: 12 hex digits of the entry's directory (a legacy v1 ID) or blob name.
    package var shortID: String {
        let parts = entryName.split(separator: "/")
        let candidate = parts.last == "layer.tar" && parts.count >= 2 ? parts[parts.count - 2] : parts.last ?? ""
        let hex = candidate.filter(\.isHexDigit)
        return hex.count >= 12 ? String(hex.prefix(12)) : String(candidate.prefix(12))
    }

    /// Called by the writer: `total` bytes of the file are written, from `consumed` uncompressed bytes.
    func wrote(total: Int64, consumed: Int64) {
        condition.lock()
        written = total
        self.consumed = consumed
        condition.broadcast()
        condition.unlock()
    }

    /// Called by the writer once the file is closed.
    func complete(_ completion: Completion) {
        condition.lock()
        written = completion.size
        finished = completion
        let waiting = waiters
        waiters = []
        condition.broadcast()
        condition.unlock()
        for waiter in waiting { waiter.resume(returning: completion) }
    }

    /// Called when the file will never be complete (the export failed, was cancelled, or the entry was dropped).
    package func abandon(_ why: String) {
        condition.lock()
        guard finished == nil && failure == nil else {
            condition.unlock()
            return
        }
        failure = why
        let waiting = waiters
        waiters = []
        condition.broadcast()
        condition.unlock()
        for waiter in waiting { waiter.resume(throwing: GrowingLayerError.abandoned(why)) }
    }

    /// Waits (without blocking a thread) until the file is complete; throws when it is abandoned.
    package func completed() async throws -> Completion {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if let finished {
                condition.unlock()
                continuation.resume(returning: finished)
            } else if let failure {
                condition.unlock()
                continuation.resume(throwing: GrowingLayerError.abandoned(failure))
            } else {
                waiters.append(continuation)
                condition.unlock()
            }
        }
    }

    /// The compressed size as far as it can be told: exact once complete, else the uncompressed size scaled by the
    /// compression ratio so far (for progress bars; the compressor runs ahead of the file, so it errs low).
    package var estimatedSize: Int64 {
        condition.lock()
        defer { condition.unlock() }
        if let finished { return finished.size }
        guard consumed > 0 else { return uncompressedSize }
        return max(written, Int64(Double(uncompressedSize) * Double(written) / Double(consumed)))
    }

    /// The digest and size, once the writer completed the file.
    package var completion: Completion? {
        condition.lock()
        defer { condition.unlock() }
        return finished
    }

    /// A reader of the file from its start, following the writer. Open it before the file can be renamed or
    /// removed (an open descriptor keeps reading the same file).
    package func openReader() throws -> Reader {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BlobFile.error(errno, path: path, operation: "open") }
        return Reader(layer: self, descriptor: descriptor)
    }

    /// Waits until `count` bytes are written or the file is complete (then maybe fewer); returns how many bytes are
    /// written. The wait blocks a thread of its own, never Swift's cooperative pool: the writer may take seconds.
    /// Throws when the file is abandoned.
    package func written(atLeast count: Int64) async throws -> Int64 {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    continuation.resume(returning: try self.waitFor(count))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private func waitFor(_ count: Int64) throws -> Int64 {
        condition.lock()
        defer { condition.unlock() }
        while written < count && finished == nil && failure == nil { condition.wait() }
        if let failure, finished == nil { throw GrowingLayerError.abandoned(failure) }
        return written
    }

    /// Blocks until more than `offset` bytes are written, or the file is complete or abandoned. Returns how many
    /// bytes are written (== `offset` only when the file is complete at `offset`).
    fileprivate func waitBeyond(_ offset: Int64) throws -> Int64 {
        condition.lock()
        defer { condition.unlock() }
        while written <= offset && finished == nil && failure == nil { condition.wait() }
        if let failure, finished == nil { throw GrowingLayerError.abandoned(failure) }
        return written
    }

    /// Reads the growing file front to back: each `read` returns at least one byte unless the file is complete
    /// and fully read (0), waiting for the writer when it has caught up.
    package final class Reader: @unchecked Sendable {
        private let layer: GrowingLayer
        private let descriptor: Int32
        package private(set) var offset: Int64 = 0

        fileprivate init(layer: GrowingLayer, descriptor: Int32) {
            self.layer = layer
            self.descriptor = descriptor
        }

        deinit { close(descriptor) }

        package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
            let available = try layer.waitBeyond(offset)
            guard available > offset else { return 0 }
            let wanted = Int(min(Int64(buffer.count), available - offset))
            while true {
                let count = pread(descriptor, base, wanted, off_t(offset))
                if count > 0 {
                    offset += Int64(count)
                    return count
                }
                if count < 0 && errno == EINTR { continue }
                let reason = count == 0 ? "the file is shorter than written" : String(cString: strerror(errno))
                throw ImageExportError.io(path: layer.path, operation: "read", reason: reason)
            }
        }
    }
}
