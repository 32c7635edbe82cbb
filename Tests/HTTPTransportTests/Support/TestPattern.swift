/// The byte pattern the test server streams from /bytes: (i * 31 + 7) % 251 over a 64 KiB block, repeated.
enum TestPattern {
    static let block: [UInt8] = (0..<65536).map { UInt8(($0 * 31 + 7) % 251) }

    /// Copies the pattern bytes at `position...` into `buffer`.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer, from position: Int64) {
        block.withUnsafeBytes { source in
            var written = 0
            var offset = Int(position % Int64(block.count))
            while written < buffer.count {
                let count = min(buffer.count - written, block.count - offset)
                UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + count)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)]))
                written += count
                offset = 0
            }
        }
    }
}
