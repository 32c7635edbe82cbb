import Hashing

/// Where UploadLayerPart reads a layer's bytes from (a prepared file, or memory), by offset, from any thread.
package protocol LayerPartSource: Sendable {
    /// Reads up to `buffer.count` bytes at `offset`; returns how many (0 only past the end).
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

package enum LayerPartSourceError: Error, Sendable, CustomStringConvertible {
    case shortRead(offset: Int64)

    package var description: String {
        switch self {
        case .shortRead(let offset): return "the prepared layer ended early, at byte \(offset)"
        }
    }
}

/// The JSON body of UploadLayerPart, `{…,"layerPartBlob":"<base64 of the part>"}`, produced in small pieces:
/// a 20 MiB part is never held whole (nor its 27 MiB of base64), whatever the number of uploads in flight.
struct LayerPartBody: Sendable {
    let prefix: [UInt8]
    let suffix: [UInt8] = Array("\"}".utf8)
    let source: any LayerPartSource
    let range: ClosedRange<Int64>

    var length: Int64 {
        let raw = Int64(range.count)
        return Int64(prefix.count) + (raw + 2) / 3 * 4 + Int64(suffix.count)
    }

    /// The SHA-256 of the body, for the signature: one pass over the part before sending it.
    func sha256() throws -> String {
        let produce = makeProducer()
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try produce($0) }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        return hasher.finalize().hex
    }

    func makeProducer() -> @Sendable (UnsafeMutableRawBufferPointer) throws -> Int {
        let state = ProducerState(body: self)
        return { buffer in try state.fill(buffer) }
    }
}

/// Producer state, used by one transfer thread at a time.
private final class ProducerState: @unchecked Sendable {
    let body: LayerPartBody
    var pending: [UInt8]
    var pendingOffset = 0
    var nextRaw: Int64
    var finished = false
    var raw = [UInt8](repeating: 0, count: 48 << 10)  // a multiple of 3: no padding but at the very end

    init(body: LayerPartBody) {
        self.body = body
        self.pending = body.prefix
        self.nextRaw = body.range.lowerBound
    }

    func fill(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var written = 0
        while written < buffer.count {
            if pendingOffset == pending.count {
                guard try refill() else { break }
            }
            let count = min(buffer.count - written, pending.count - pendingOffset)
            pending.withUnsafeBytes { source in
                buffer.baseAddress!.advanced(by: written).copyMemory(from: source.baseAddress!.advanced(by: pendingOffset), byteCount: count)
            }
            written += count
            pendingOffset += count
        }
        return written
    }

    /// Encodes the next slice of the part (or appends the closing suffix); false when everything was produced.
    private func refill() throws -> Bool {
        pendingOffset = 0
        if nextRaw > body.range.upperBound {
            if finished { pending = []; return false }
            finished = true
            pending = body.suffix
            return true
        }
        let wanted = Int(min(Int64(raw.count), body.range.upperBound - nextRaw + 1))
        var filled = 0
        while filled < wanted {
            let count = try raw.withUnsafeMutableBytes { buffer in
                try body.source.read(
                    at: nextRaw + Int64(filled),
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<wanted]))
            }
            if count == 0 { throw LayerPartSourceError.shortRead(offset: nextRaw + Int64(filled)) }
            filled += count
        }
        nextRaw += Int64(filled)
        pending = raw.withUnsafeBytes { Base64.encode(UnsafeRawBufferPointer(rebasing: $0[0..<filled])) }
        return true
    }
}

/// Standard base64 with padding, table-driven over raw buffers.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        let outputCount = (input.count + 2) / 3 * 4
        return [UInt8](unsafeUninitializedCapacity: outputCount) { output, initialized in
            alphabet.withUnsafeBufferPointer { table in
                var i = 0, o = 0
                while i + 3 <= input.count {
                    let value = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    output[o] = table[Int(value >> 18 & 63)]
                    output[o + 1] = table[Int(value >> 12 & 63)]
                    output[o + 2] = table[Int(value >> 6 & 63)]
                    output[o + 3] = table[Int(value & 63)]
                    i += 3; o += 4
                }
                let rest = input.count - i
                if rest > 0 {
                    let value = UInt32(input[i]) << 16 | (rest == 2 ? UInt32(input[i + 1]) << 8 : 0)
                    output[o] = table[Int(value >> 18 & 63)]
                    output[o + 1] = table[Int(value >> 12 & 63)]
                    output[o + 2] = rest == 2 ? table[Int(value >> 6 & 63)] : UInt8(ascii: "=")
                    output[o + 3] = UInt8(ascii: "=")
                    o += 4
                }
            }
            initialized = outputCount
        }
    }
}
