internal import CZlib

/// Streaming gzip decompression over zlib's inflate. Accepts concatenated gzip members (as `gzip -d` and
/// Go's gzip reader do). Feed chunks with `decompress`; `finish` checks that the last member was complete.
/// Use from one thread at a time.
package final class GzipDecompressor {
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    private var memberEnded = false
    private var sawInput = false
    /// Compressed bytes taken so far.
    package private(set) var bytesIn: Int64 = 0
    /// Decompressed bytes handed to sinks so far.
    package private(set) var bytesOut: Int64 = 0

    /// Output buffer size, and the size of the buffers that gather the export's file writes.
    package static let defaultBufferSize = 256 * 1024

    package init(bufferSize: Int = GzipDecompressor.defaultBufferSize) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: max(bufferSize, 1024), alignment: 16)
        let status = ecr_inflate_init_gzip(stream)
        guard status == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw ImageExportError.zlib(operation: "start decompressing", code: status, message: "")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    package func decompress(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, input.count > 0 else { return }
        sawInput = true
        var position = 0
        while position < input.count {
            let piece = min(input.count - position, 1 << 30)
            stream.pointee.next_in = UnsafeMutablePointer(mutating: (base + position).assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(piece)
            try drain(sink)
            position += piece
        }
        bytesIn += Int64(input.count)
    }

    package func decompress(_ bytes: [UInt8], sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try bytes.withUnsafeBytes { try decompress($0, sink: sink) }
    }

    /// Throws if the input stopped inside a gzip member (or there was no input at all).
    package func finish() throws {
        guard sawInput, memberEnded else {
            throw ImageExportError.zlib(operation: "decompress", code: Z_BUF_ERROR, message: "the gzip data is truncated")
        }
    }

    package static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        let decompressor = try GzipDecompressor()
        var out: [UInt8] = []
        try decompressor.decompress(bytes) { out.append(contentsOf: $0) }
        try decompressor.finish()
        return out
    }

    private func drain(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        while true {
            if memberEnded {
                guard stream.pointee.avail_in > 0 else { return }
                // Another gzip member follows the one that ended.
                inflateReset(stream)
                memberEnded = false
            }
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            let status = inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_OK, Z_BUF_ERROR: break
            case Z_STREAM_END: memberEnded = true
            case Z_NEED_DICT:
                throw ImageExportError.zlib(operation: "decompress", code: status, message: "a preset dictionary is required")
            default:
                throw ImageExportError.zlib(operation: "decompress", code: status, message: zlibMessage(stream))
            }
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                try sink(UnsafeRawBufferPointer(start: output.baseAddress, count: produced))
                bytesOut += Int64(produced)
            }
            if status == Z_STREAM_END { continue }
            // Output space left over means inflate wants more input.
            if stream.pointee.avail_out > 0 { return }
        }
    }
}

/// zlib's own words for the last error on `stream`, if it has any.
func zlibMessage(_ stream: UnsafeMutablePointer<z_stream>) -> String {
    guard let message = stream.pointee.msg else { return "" }
    return String(cString: message)
}
