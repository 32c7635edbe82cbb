import CZlib

/// Streaming gzip (RFC 1952) compression over zlib's deflate. Feed chunks with `compress`, end with `finish`;
/// compressed output goes to the sink in pieces of up to `bufferSize` bytes (full buffers except the last),
/// so a sink that writes a file makes few, large writes. Use from one thread at a time.
public final class GzipCompressor {
    public static let defaultLevel = 6
    public static let defaultBufferSize = 256 * 1024

    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    private var finished = false
    public let level: Int
    /// Uncompressed bytes taken so far.
    public private(set) var bytesIn: Int64 = 0
    /// Compressed bytes handed to sinks so far.
    public private(set) var bytesOut: Int64 = 0

    public init(level: Int = GzipCompressor.defaultLevel, bufferSize: Int = GzipCompressor.defaultBufferSize) throws {
        guard (0...9).contains(level) else { throw ImageExportError.invalidCompressionLevel(level) }
        self.level = level
        stream = .allocate(capacity: 1)
        // zlib keeps a pointer to the z_stream, so it lives at a fixed heap address for the compressor's life.
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: max(bufferSize, 1024), alignment: 16)
        let status = ecr_deflate_init_gzip(stream, Int32(level))
        guard status == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw ImageExportError.zlib(operation: "start compressing", code: status, message: "")
        }
        resetOutput()
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Compresses `input`; calls `sink` whenever the output buffer fills.
    public func compress(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { throw ImageExportError.zlib(operation: "compress after finishing", code: Z_STREAM_ERROR, message: "") }
        guard let base = input.baseAddress, input.count > 0 else { return }
        var position = 0
        while position < input.count {
            // avail_in is 32-bit: hand over at most 1 GiB at a time.
            let piece = min(input.count - position, 1 << 30)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + position).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(piece)
            while stream.pointee.avail_in > 0 {
                try run(flush: Z_NO_FLUSH, operation: "compress")
                if stream.pointee.avail_out == 0 { try emit(sink) }
            }
            position += piece
        }
        bytesIn += Int64(input.count)
    }

    public func compress(_ bytes: [UInt8], sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try bytes.withUnsafeBytes { try compress($0, sink: sink) }
    }

    /// Flushes everything and writes the gzip trailer. The compressor cannot be used afterwards.
    public func finish(sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !finished else { return }
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        while true {
            let status = try run(flush: Z_FINISH, operation: "finish compressing")
            if status == Z_STREAM_END { break }
            // With Z_FINISH, deflate only stops short of the end when the output buffer is full.
            guard stream.pointee.avail_out == 0 else {
                throw ImageExportError.zlib(operation: "finish compressing", code: status, message: "no progress")
            }
            try emit(sink)
        }
        try emit(sink)
        finished = true
    }

    /// Compresses `bytes` in one go.
    public static func compress(_ bytes: [UInt8], level: Int = defaultLevel) throws -> [UInt8] {
        let compressor = try GzipCompressor(level: level)
        var out: [UInt8] = []
        let append: (UnsafeRawBufferPointer) throws -> Void = { out.append(contentsOf: $0) }
        try compressor.compress(bytes, sink: append)
        try compressor.finish(sink: append)
        return out
    }

    @discardableResult
    private func run(flush: Int32, operation: String) throws -> Int32 {
        let status = deflate(stream, flush)
        // Z_BUF_ERROR only means "no progress possible now" (output full); the caller drains and retries.
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
            throw ImageExportError.zlib(operation: operation, code: status, message: zlibMessage(stream))
        }
        return status
    }

    private func emit(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let produced = output.count - Int(stream.pointee.avail_out)
        if produced > 0 {
            try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: produced))
            bytesOut += Int64(produced)
        }
        resetOutput()
    }

    private func resetOutput() {
        stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(output.count)
    }
}

func zlibMessage(_ stream: UnsafeMutablePointer<z_stream>) -> String {
    guard let message = stream.pointee.msg else { return "" }
    return String(cString: message)
}
