import CZlib
import Foundation

/// gzip compression that uses several cores, as pigz does: the input is cut into fixed-size blocks, each
/// block is deflated on a worker thread with the previous block's last 32 KiB as its dictionary and ends
/// with a sync flush, and the pieces are written in order as one ordinary single-member gzip stream.
///
/// The output depends only on the input, `level` and `blockSize`, never on `threads` or timing, so the
/// same layer always gets the same digest (which lets a registry recognise layers it already has).
/// `compress` blocks while `threads + 1` blocks are in flight: the caller's pace follows the workers'.
/// Use from one thread at a time.
public final class ParallelGzipCompressor {
    public static let defaultBlockSize = 512 * 1024
    static let dictionarySize = 32 * 1024

    public let level: Int
    public let blockSize: Int
    private let threads: Int
    private var current: DeflateBlock
    /// Submitted blocks, oldest first; their output is written in this order.
    private var inFlight: [DeflateBlock] = []
    private var spare: [DeflateBlock] = []
    private var crc: uLong = 0
    private var headerWritten = false
    private var finished = false
    /// Uncompressed bytes taken so far.
    public private(set) var bytesIn: Int64 = 0
    /// Compressed bytes handed to sinks so far.
    public private(set) var bytesOut: Int64 = 0

    /// `threads` 1 deflates on the calling thread; more use a shared pool of worker threads.
    public init(level: Int = GzipCompressor.defaultLevel, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                blockSize: Int = ParallelGzipCompressor.defaultBlockSize) throws {
        guard (0...9).contains(level) else { throw ImageExportError.invalidCompressionLevel(level) }
        self.level = level
        self.blockSize = max(blockSize, 2 * Self.dictionarySize)
        self.threads = max(1, min(threads, CompressionWorkerPool.shared.threadCount))
        current = DeflateBlock(capacity: self.blockSize, level: Int32(level))
    }

    public func compress(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { throw ImageExportError.zlib(operation: "compress after finishing", code: Z_STREAM_ERROR, message: "") }
        try writeHeaderIfNeeded(sink)
        guard let base = input.baseAddress else { return }
        var position = 0
        while position < input.count {
            let take = min(blockSize - current.count, input.count - position)
            (current.input.baseAddress! + current.count).copyMemory(from: base + position, byteCount: take)
            current.count += take
            position += take
            if current.count == blockSize { try submitCurrent(last: false, sink: sink) }
        }
        bytesIn += Int64(input.count)
    }

    public func compress(_ bytes: [UInt8], sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try bytes.withUnsafeBytes { try compress($0, sink: sink) }
    }

    /// Deflates what is left as the final block, writes everything in order and the gzip trailer.
    public func finish(sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { return }
        try writeHeaderIfNeeded(sink)
        try submitCurrent(last: true, sink: sink)
        try drain(sink, waitWhileAtLeast: 1)
        finished = true
        // Trailer: CRC-32 and input size modulo 2^32, little-endian.
        var trailer = [UInt8](repeating: 0, count: 8)
        let size = UInt32(truncatingIfNeeded: bytesIn)
        for index in 0..<4 {
            trailer[index] = UInt8(truncatingIfNeeded: UInt32(crc) >> (8 * index))
            trailer[4 + index] = UInt8(truncatingIfNeeded: size >> (8 * index))
        }
        try emit(trailer, sink)
    }

    public static func compress(_ bytes: [UInt8], level: Int = GzipCompressor.defaultLevel,
                                threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> [UInt8] {
        let compressor = try ParallelGzipCompressor(level: level, threads: threads)
        var out: [UInt8] = []
        let append: (UnsafeRawBufferPointer) throws -> Void = { out.append(contentsOf: $0) }
        try compressor.compress(bytes, sink: append)
        try compressor.finish(sink: append)
        return out
    }

    // MARK: - Blocks

    private func submitCurrent(last: Bool, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let block = current
        block.isLast = last
        let next = spare.popLast() ?? DeflateBlock(capacity: blockSize, level: Int32(level))
        next.reset()
        if !last {
            // The next block may refer back into the last 32 KiB of this one, as a single deflate stream would.
            let dictionary = min(Self.dictionarySize, block.count)
            next.dictionary.baseAddress!.copyMemory(from: block.input.baseAddress! + (block.count - dictionary), byteCount: dictionary)
            next.dictionaryCount = dictionary
        }
        current = next
        if threads == 1 {
            block.run()
        } else {
            CompressionWorkerPool.shared.enqueue(block)
        }
        inFlight.append(block)
        try drain(sink, waitWhileAtLeast: threads + 1)
    }

    /// Writes finished blocks from the front of the queue; waits for the oldest while `limit` or more are queued.
    private func drain(_ sink: (UnsafeRawBufferPointer) throws -> Void, waitWhileAtLeast limit: Int) throws {
        while let oldest = inFlight.first {
            if inFlight.count >= limit {
                oldest.waitUntilDone()
            } else if !oldest.isDone {
                return
            }
            inFlight.removeFirst()
            if let error = oldest.error { throw error }
            crc = crc32_combine(crc, oldest.crc, .init(oldest.count))
            try emit(UnsafeRawBufferPointer(start: oldest.output.baseAddress, count: oldest.outputCount), sink)
            spare.append(oldest)
        }
    }

    private func writeHeaderIfNeeded(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !headerWritten else { return }
        headerWritten = true
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL OS=Unix, as zlib writes it for the same level.
        let extraFlags: UInt8 = level == 9 ? 2 : (level < 2 ? 4 : 0)
        try emit([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, extraFlags, 3], sink)
    }

    private func emit(_ bytes: [UInt8], _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try bytes.withUnsafeBytes { try emit($0, sink) }
    }

    private func emit(_ bytes: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard bytes.count > 0 else { return }
        try sink(bytes)
        bytesOut += Int64(bytes.count)
    }
}
