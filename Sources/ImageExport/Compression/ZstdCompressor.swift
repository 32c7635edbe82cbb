internal import CZstd
import Foundation

/// Streaming Zstandard compression on several cores (libzstd's own worker threads). The output depends only
/// on the input and the level, never on the number of cores (libzstd's multi-threaded mode cuts jobs at fixed
/// sizes; one worker is used even on one core so that the format never changes with the machine). Frames
/// carry a content checksum.
package final class ZstdCompressor {
    private let context: OpaquePointer
    private let output: UnsafeMutableRawBufferPointer
    private var finished = false
    package let level: Int
    package private(set) var bytesIn: Int64 = 0
    package private(set) var bytesOut: Int64 = 0

    package init(level: Int = LayerCompression.zstd.defaultLevel, threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        guard LayerCompression.zstd.levels.contains(level) else { throw ImageExportError.invalidCompressionLevel(level, .zstd) }
        guard let context = ZSTD_createCCtx() else {
            throw ImageExportError.zstd(operation: "start compressing", message: "out of memory")
        }
        self.context = context
        self.level = level
        output = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
        do {
            try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Int32(level)), "set the level")
            try Self.check(ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1), "enable checksums")
            // Without multi-threading support in libzstd this fails: then one thread, and other digests.
            if ZSTD_isError(ZSTD_CCtx_setParameter(context, ZSTD_c_nbWorkers, Int32(max(1, threads)))) == 0 {
                // Jobs of 1 MiB (the default is several window sizes): memory stays flat with many cores.
                _ = ZSTD_CCtx_setParameter(context, ZSTD_c_jobSize, Int32(Self.jobSize))
            }
        } catch {
            ZSTD_freeCCtx(context)
            output.deallocate()
            throw error
        }
    }

    static let jobSize = 1 << 20

    deinit {
        ZSTD_freeCCtx(context)
        output.deallocate()
    }

    package func compress(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { throw ImageExportError.zstd(operation: "compress after finishing", message: "") }
        guard input.count > 0 else { return }
        var source = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        while source.pos < source.size {
            _ = try step(&source, ZSTD_e_continue, sink)
        }
        bytesIn += Int64(input.count)
    }

    package func finish(sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { return }
        var source = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&source, ZSTD_e_end, sink) != 0 {}
        finished = true
    }

    /// One call to ZSTD_compressStream2; returns what libzstd says remains to flush.
    private func step(
        _ source: inout ZSTD_inBuffer, _ directive: ZSTD_EndDirective,
        _ sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        var target = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let remaining = ZSTD_compressStream2(context, &target, &source, directive)
        try Self.check(remaining, "compress")
        if target.pos > 0 {
            try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: target.pos))
            bytesOut += Int64(target.pos)
        }
        return remaining
    }

    private static func check(_ code: Int, _ operation: String) throws {
        if ZSTD_isError(code) != 0 {
            throw ImageExportError.zstd(operation: operation, message: String(cString: ZSTD_getErrorName(code)))
        }
    }

    package static func compress(
        _ bytes: [UInt8], level: Int = LayerCompression.zstd.defaultLevel,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws -> [UInt8] {
        let compressor = try ZstdCompressor(level: level, threads: threads)
        var out: [UInt8] = []
        let append: (UnsafeRawBufferPointer) throws -> Void = { out.append(contentsOf: $0) }
        try bytes.withUnsafeBytes { try compressor.compress($0, sink: append) }
        try compressor.finish(sink: append)
        return out
    }
}

extension ZstdCompressor: LayerCompressor {}
