import Synchronization

/// Bytes handed out a few at a time, as a producer that is still making them would (a layer being compressed):
/// the `read` of a streamed upload body, at most `chunk` bytes per call, 0 at the end.
package final class StreamedBytes: Sendable {
    package let bytes: [UInt8]
    private let chunk: Int
    private let offset = Mutex(0)

    package init(_ bytes: [UInt8], chunk: Int) { (self.bytes, self.chunk) = (bytes, chunk) }

    package func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        offset.withLock { offset in
            let count = min(buffer.count, chunk, bytes.count - offset)
            buffer.copyBytes(from: bytes[offset..<offset + count])
            offset += count
            return count
        }
    }
}
