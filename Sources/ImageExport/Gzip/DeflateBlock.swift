internal import CLibDeflate
import Foundation

/// One block of input and the gzip member it becomes. Filled by the compressor's thread, compressed by a
/// worker, then read back by the compressor's thread once `isDone` (the condition orders those accesses).
final class DeflateBlock: @unchecked Sendable {
    let input: UnsafeMutableRawBufferPointer
    private(set) var output: UnsafeMutableRawBufferPointer
    let level: Int32
    var count = 0
    private(set) var outputCount = 0
    private(set) var error: ImageExportError?
    private let condition = NSCondition()
    private var done = false
    /// libdeflate's compressors for this block's level and for stored output, made on first use and kept
    /// while the block is recycled (a level-6 compressor is several hundred KiB to set up).
    private var compressor: OpaquePointer?
    private var storingCompressor: OpaquePointer?
    private var sampleCompressor: OpaquePointer?

    init(capacity: Int, level: Int32) {
        self.level = level
        input = .allocate(byteCount: capacity, alignment: 16)
        output = .allocate(byteCount: libdeflate_gzip_compress_bound(nil, capacity), alignment: 16)
    }

    deinit {
        input.deallocate()
        output.deallocate()
        libdeflate_free_compressor(compressor)
        libdeflate_free_compressor(storingCompressor)
        libdeflate_free_compressor(sampleCompressor)
    }

    /// Makes a drained block ready for new input (no worker holds it any more).
    func reset() {
        count = 0
        outputCount = 0
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

    /// Compresses the block (on a worker thread, or inline).
    func run() {
        do {
            try compressBlock()
        } catch let failure as ImageExportError {
            error = failure
        } catch {
            self.error = .libdeflate(operation: "compress (\(error))")
        }
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }

    /// The block becomes one complete gzip member (header, deflate data, CRC-32 and size): members concatenate
    /// into a standard multi-member gzip stream (RFC 1952 §2.2), which gzip, zlib, Go's gzip reader (docker,
    /// containerd) and every OCI runtime read as one; eStargz layers rely on the same property.
    private func compressBlock() throws {
        // Incompressible data (random bytes, already-compressed files) would pay deflate's full price to save
        // nothing: such a block is stored instead. The choice depends only on the bytes, so digests stay stable.
        let store = level == 0 || looksIncompressible()
        let handle: OpaquePointer
        if store {
            if storingCompressor == nil { storingCompressor = libdeflate_alloc_compressor(0) }
            guard let made = storingCompressor else { throw outOfMemory() }
            handle = made
        } else {
            if compressor == nil { compressor = libdeflate_alloc_compressor(level) }
            guard let made = compressor else { throw outOfMemory() }
            handle = made
        }
        let written = libdeflate_gzip_compress(handle, input.baseAddress, count, output.baseAddress, output.count)
        // The output buffer is libdeflate's bound for a full block: it cannot fall short.
        guard written > 0 else { throw ImageExportError.libdeflate(operation: "compress within its own output bound") }
        outputCount = written
    }

    private func outOfMemory() -> ImageExportError {
        .libdeflate(operation: "allocate a compressor (out of memory)")
    }

    static let sampleSize = 16 << 10

    /// Deflates a sample from the middle of the block at level 1: when that saves under 3%, the block is
    /// taken as incompressible. Blocks smaller than a few samples are always compressed.
    func looksIncompressible() -> Bool {
        let sampleSize = Self.sampleSize
        guard count >= 4 * sampleSize else { return false }
        if sampleCompressor == nil { sampleCompressor = libdeflate_alloc_compressor(1) }
        guard let sampler = sampleCompressor else { return false }
        // Output room for 97% of the sample: libdeflate returns 0 when the result would not fit, which is
        // exactly "saves under 3%". The block's output buffer is free until the block is compressed.
        let written = libdeflate_deflate_compress(
            sampler, input.baseAddress! + (count / 2 - sampleSize / 2), sampleSize,
            output.baseAddress, sampleSize * 97 / 100)
        return written == 0
    }
}
