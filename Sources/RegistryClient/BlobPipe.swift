import Foundation
import Hashing

/// A bounded byte pipe between two transfer threads: a blob's download from one registry writes into it, its
/// upload to another reads from it, so a copy holds at most `capacity` bytes in memory whatever the blob's size.
/// The bytes are hashed on the way: a source that sends other bytes than its digest says fails the upload before
/// its last byte, so the destination never stores them.
final class BlobPipe: @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer: [UInt8] = []
    private var readOffset = 0
    private var finished = false
    private var failure: (any Error)?
    private let hasher = SHA256Accumulator()
    private(set) var bytesWritten: Int64 = 0
    private let capacity: Int
    private let digest: String
    private let size: Int64

    init(digest: String, size: Int64, capacity: Int = 4 << 20) {
        self.digest = digest
        self.size = size
        self.capacity = capacity
    }

    /// Called by the download; blocks while the pipe is full. Throws once the reader gave up.
    func write(_ chunk: UnsafeRawBufferPointer) throws {
        condition.lock()
        defer { condition.unlock() }
        var offset = 0
        while offset < chunk.count {
            while buffer.count - readOffset >= capacity, failure == nil { condition.wait() }
            if let failure { throw failure }
            if readOffset >= capacity / 2 {
                buffer.removeSubrange(0..<readOffset)
                readOffset = 0
            }
            let count = min(chunk.count - offset, capacity - (buffer.count - readOffset))
            let part = UnsafeRawBufferPointer(rebasing: chunk[offset..<offset + count])
            buffer.append(contentsOf: part)
            hasher.update(part)
            bytesWritten += Int64(count)
            offset += count
            condition.broadcast()
        }
        if bytesWritten > size { failLocked(RegistryError.invalidArgument("the source sent more than the \(size) bytes of \(digest)")) }
    }

    /// The download ended: the pipe checks length and digest before letting the reader see its end.
    func finish() {
        condition.lock()
        defer { condition.unlock() }
        guard failure == nil else { return }
        let actual = hasher.digest().ociDigest
        if bytesWritten != size || actual != digest {
            failLocked(
                RegistryError.invalidArgument(
                    "the source registry sent \(bytesWritten) bytes with digest \(actual) for \(digest) (\(size) bytes)"))
            return
        }
        finished = true
        condition.broadcast()
    }

    /// Either side gave up: the other one stops at its next call.
    func fail(_ error: any Error) {
        condition.lock()
        defer { condition.unlock() }
        failLocked(error)
    }

    private func failLocked(_ error: any Error) {
        if failure == nil { failure = error }
        condition.broadcast()
    }

    /// Called by the upload; blocks until bytes are there. 0 means the end, which comes only once the digest
    /// checked out: the last byte is held back until then, so an upload never completes with bad bytes.
    func read(into target: UnsafeMutableRawBufferPointer) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while failure == nil, !finished, buffer.count - readOffset <= 1 { condition.wait() }
        if let failure { throw failure }
        let count = min(buffer.count - readOffset - (finished ? 0 : 1), target.count)
        guard count > 0 else { return 0 }
        buffer.withUnsafeBytes { source in
            target.baseAddress!.copyMemory(from: source.baseAddress!.advanced(by: readOffset), byteCount: count)
        }
        readOffset += count
        condition.broadcast()
        return count
    }
}
