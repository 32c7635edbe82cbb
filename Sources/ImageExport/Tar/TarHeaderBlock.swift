/// Field access on one 512-byte tar header block (ustar layout; GNU and v7 share the first 257 bytes).
struct TarHeaderBlock {
    static let size = 512

    let bytes: UnsafeRawBufferPointer

    var isAllZero: Bool {
        // Word-at-a-time: headers are checked often enough in layer-heavy streams to avoid byte loops.
        var index = 0
        while index + 8 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
            index += 8
        }
        return true
    }

    /// The stored checksum matches the unsigned (or, for old writers, signed) sum of the block.
    var checksumIsValid: Bool {
        guard let stored = number(at: 148, length: 8) else { return false }
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for index in 0..<TarHeaderBlock.size {
            let byte = (148..<156).contains(index) ? UInt8(ascii: " ") : bytes[index]
            unsigned += Int64(byte)
            signed += Int64(Int8(bitPattern: byte))
        }
        return stored == unsigned || stored == signed
    }

    var typeFlag: UInt8 { bytes[156] }

    /// POSIX ustar ("ustar\0"), whose prefix field extends the name; GNU's "ustar  \0" uses it for times.
    var isPOSIXUstar: Bool {
        bytes[257] == UInt8(ascii: "u") && bytes[258] == UInt8(ascii: "s") && bytes[259] == UInt8(ascii: "t")
            && bytes[260] == UInt8(ascii: "a") && bytes[261] == UInt8(ascii: "r") && bytes[262] == 0
    }

    var name: String {
        let name = string(at: 0, length: 100)
        guard isPOSIXUstar else { return name }
        let prefix = string(at: 345, length: 155)
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    var linkName: String { string(at: 157, length: 100) }

    /// A NUL-terminated (or full-width) string field.
    func string(at offset: Int, length: Int) -> String {
        var end = offset
        while end < offset + length && bytes[end] != 0 { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self)
    }

    /// An octal field (spaces/NULs around the digits) or a GNU base-256 field (high bit of the first byte set).
    /// Nil if the field holds anything else.
    func number(at offset: Int, length: Int) -> Int64? {
        let first = bytes[offset]
        if first & 0x80 != 0 {
            // Base-256, big-endian two's complement; the first byte's top bit is only the marker.
            let negative = first & 0x40 != 0
            var value: Int64 = negative ? -1 : 0
            for index in offset..<(offset + length) {
                var byte = bytes[index]
                if index == offset { byte = negative ? byte | 0x80 : byte & 0x7f }
                guard value.leadingZeroBitCount > 8 || negative else { return nil }  // would overflow 63 bits
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var value: Int64 = 0
        var index = offset
        let end = offset + length
        while index < end && (bytes[index] == UInt8(ascii: " ") || bytes[index] == 0) {
            index += 1
            if index == end { return 0 }  // an all-blank field counts as zero, as GNU tar reads it
        }
        while index < end {
            let byte = bytes[index]
            if byte == 0 || byte == UInt8(ascii: " ") { break }
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "7") else { return nil }
            guard value < (Int64.max >> 3) else { return nil }
            value = value << 3 | Int64(byte - UInt8(ascii: "0"))
            index += 1
        }
        return value
    }
}

/// PAX extended header records: "<length> <key>=<value>\n", repeated.
enum PAXRecords {
    static func parse(_ content: [UInt8]) -> [String: String]? {
        var records: [String: String] = [:]
        var index = 0
        while index < content.count {
            // Trailing NUL padding is tolerated (some writers pad the record block).
            if content[index] == 0 { break }
            var length = 0
            var cursor = index
            while cursor < content.count, content[cursor] >= UInt8(ascii: "0"), content[cursor] <= UInt8(ascii: "9") {
                length = length * 10 + Int(content[cursor] - UInt8(ascii: "0"))
                guard length <= content.count else { return nil }
                cursor += 1
            }
            guard cursor < content.count, content[cursor] == UInt8(ascii: " "), length > cursor - index + 1 else { return nil }
            let recordEnd = index + length
            guard recordEnd <= content.count, content[recordEnd - 1] == UInt8(ascii: "\n") else { return nil }
            let body = content[(cursor + 1)..<(recordEnd - 1)]
            guard let equals = body.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            let key = String(decoding: body[body.startIndex..<equals], as: UTF8.self)
            let value = String(decoding: body[(equals + 1)...], as: UTF8.self)
            records[key] = value
            index = recordEnd
        }
        return records
    }
}
