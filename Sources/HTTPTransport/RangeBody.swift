import Synchronization

/// The bytes of one `Range` answer, gathered from a streamed body (`HTTPClient.send(_:onHead:onBody:)`) for a copy
/// in parts. A server that ignores the range answers 200 with the whole resource: `append` then throws `Enough`
/// once the range's bytes are in, which stops the transfer there (the caller catches it as the end).
package final class RangeBody: Sendable {
    package struct Enough: Error {}

    package let wanted: Int
    private let bytes: Mutex<[UInt8]>

    package init(range: ClosedRange<Int64>) {
        wanted = range.count
        bytes = Mutex([])
        bytes.withLock { [wanted] in $0.reserveCapacity(wanted) }
    }

    package func append(_ chunk: UnsafeRawBufferPointer) throws {
        let leftOver = bytes.withLock { bytes in
            let taken = min(chunk.count, wanted - bytes.count)
            bytes.append(contentsOf: chunk.prefix(taken))
            return chunk.count - taken
        }
        if leftOver > 0 { throw Enough() }
    }

    /// What came: all of the range when `count == wanted`.
    package var collected: [UInt8] { bytes.withLock { $0 } }
}
