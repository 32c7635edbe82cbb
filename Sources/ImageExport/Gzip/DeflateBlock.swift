import CZlib
import Foundation

/// One block of input and its raw-deflate output. Filled by the compressor's thread, deflated by a worker,
/// then read back by the compressor's thread once `isDone` (the condition orders those accesses).
final class DeflateBlock: @unchecked Sendable {
    let input: UnsafeMutableRawBufferPointer
    let dictionary: UnsafeMutableRawBufferPointer
    private(set) var output: UnsafeMutableRawBufferPointer
    let level: Int32
    var count = 0
    var dictionaryCount = 0
    var isLast = false
    private(set) var outputCount = 0
    private(set) var crc: uLong = 0
    private(set) var error: ImageExportError?
    private let condition = NSCondition()
    private var done = false

    init(capacity: Int, level: Int32) {
        self.level = level
        input = .allocate(byteCount: capacity, alignment: 16)
        dictionary = .allocate(byteCount: ParallelGzipCompressor.dictionarySize, alignment: 16)
        // Room for incompressible input (stored blocks cost 5 bytes per 16 KiB at worst) and the flush marker.
        output = .allocate(byteCount: capacity + capacity / 1000 + 1024, alignment: 16)
    }

    deinit {
        input.deallocate()
        dictionary.deallocate()
        output.deallocate()
    }

    /// Makes a drained block ready for new input (no worker holds it any more).
    func reset() {
        count = 0
        dictionaryCount = 0
        isLast = false
        outputCount = 0
        crc = 0
        error = nil
        condition.lock()
        done = false
        condition.unlock()
    }

    var isDone: Bool {
        condition.lock()
        defer { condition.unlock() }
        return done
    }

    func waitUntilDone() {
        condition.lock()
        while !done { condition.wait() }
        condition.unlock()
    }

    /// Deflates the block (on a worker thread, or inline).
    func run() {
        do {
            try deflateBlock()
        } catch let failure as ImageExportError {
            error = failure
        } catch {
            self.error = .zlib(operation: "compress", code: Z_STREAM_ERROR, message: "\(error)")
        }
        crc = crc32(0, input.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(count))
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }

    private func deflateBlock() throws {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        // Raw deflate (negative window bits): the gzip header and trailer are the compressor's.
        // Incompressible data (random bytes, already-compressed files) would pay deflate's full price to save
        // nothing: such a block is stored instead. The choice depends only on the bytes, so digests stay stable.
        let effectiveLevel = level > 0 && looksIncompressible() ? 0 : level
        var status = deflateInit2_(stream, effectiveLevel, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw ImageExportError.zlib(operation: "start compressing", code: status, message: "") }
        defer { deflateEnd(stream) }
        if dictionaryCount > 0 {
            status = deflateSetDictionary(stream, dictionary.baseAddress!.assumingMemoryBound(to: Bytef.self), uInt(dictionaryCount))
            guard status == Z_OK else { throw ImageExportError.zlib(operation: "set the deflate dictionary", code: status, message: zlibMessage(stream)) }
        }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_in = uInt(count)
        // A sync flush ends the block on a byte boundary without marking it final, so blocks concatenate.
        let flush = isLast ? Z_FINISH : Z_SYNC_FLUSH
        while true {
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self) + outputCount
            stream.pointee.avail_out = uInt(output.count - outputCount)
            status = deflate(stream, flush)
            outputCount = output.count - Int(stream.pointee.avail_out)
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw ImageExportError.zlib(operation: "compress", code: status, message: zlibMessage(stream))
            }
            if status == Z_STREAM_END { return }
            if !isLast && stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
            // deflate stops short only when the output space runs out.
            guard stream.pointee.avail_out == 0 else {
                throw ImageExportError.zlib(operation: "compress", code: status, message: "no progress")
            }
            grow()
        }
    }

    static let sampleSize = 16 << 10

    /// Deflates a sample from the middle of the block at level 1: when that saves under 3%, the block is
    /// taken as incompressible. Blocks smaller than a few samples are always compressed.
    func looksIncompressible() -> Bool {
        let sampleSize = Self.sampleSize
        guard count >= 4 * sampleSize else { return false }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard deflateInit2_(stream, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return false }
        defer { deflateEnd(stream) }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: sampleSize + sampleSize / 8 + 64, alignment: 16)
        defer { scratch.deallocate() }
        stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self) + (count / 2 - sampleSize / 2)
        stream.pointee.avail_in = uInt(sampleSize)
        stream.pointee.next_out = scratch.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(scratch.count)
        guard deflate(stream, Z_FINISH) == Z_STREAM_END else { return false }
        let compressed = scratch.count - Int(stream.pointee.avail_out)
        return compressed * 100 >= sampleSize * 97
    }

    private func grow() {
        let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: output.count * 2, alignment: 16)
        bigger.baseAddress!.copyMemory(from: output.baseAddress!, byteCount: outputCount)
        output.deallocate()
        output = bigger
    }
}
