/// One tar entry's metadata, encoded as a POSIX ustar header, preceded by a PAX extended header when a field does
/// not fit ustar (names or link targets over 100 bytes or not ASCII, sizes or times beyond 11 octal digits).
struct TarHeader: Equatable, Sendable {
    enum Kind: UInt8, Sendable {
        case regular = 0x30  // '0'
        case symlink = 0x32  // '2'
        case directory = 0x35  // '5'
    }

    static let blockSize = 512
    /// The largest value 11 octal digits hold (8 GiB - 1).
    static let maxOctal11: Int64 = 0o77777777777

    var name: String
    var kind: Kind
    /// Permission bits plus setuid/setgid/sticky (07777).
    var mode: UInt32
    var size: Int64 = 0
    /// Seconds since the epoch.
    var modificationTime: Int64
    var linkName: String = ""
    // Build contexts are sent as root-owned, as the docker CLI does.
    var uid: Int = 0
    var gid: Int = 0

    /// The header blocks: an optional PAX header (with its records, padded) and the ustar header.
    func encode() -> [UInt8] {
        var records: [(String, String)] = []
        if !TarHeader.fitsUstar(name) { records.append(("path", name)) }
        if !TarHeader.fitsUstar(linkName) { records.append(("linkpath", linkName)) }
        if size > TarHeader.maxOctal11 { records.append(("size", String(size))) }
        if modificationTime < 0 || modificationTime > TarHeader.maxOctal11 { records.append(("mtime", String(modificationTime))) }

        var out: [UInt8] = []
        if !records.isEmpty {
            let payload = records.flatMap { TarHeader.paxRecord(key: $0.0, value: $0.1) }
            let paxName =
                "PaxHeaders.0/"
                + String(decoding: TarHeader.truncatedASCII(name.split(separator: "/").last.map(String.init) ?? name, limit: 80), as: UTF8.self)
            let pax = TarHeader(name: paxName, kind: .regular, mode: 0o644, size: Int64(payload.count), modificationTime: 0)
            out += pax.ustarBlock(typeFlag: 0x78)  // 'x'
            out += payload
            out += TarHeader.padding(for: Int64(payload.count))
        }
        out += ustarBlock(typeFlag: kind.rawValue)
        return out
    }

    /// Zero bytes that round `size` up to a whole block.
    static func padding(for size: Int64) -> [UInt8] {
        let remainder = Int(size % Int64(blockSize))
        return remainder == 0 ? [] : [UInt8](repeating: 0, count: blockSize - remainder)
    }

    static func paddedSize(_ size: Int64) -> Int64 {
        (size + Int64(blockSize) - 1) / Int64(blockSize) * Int64(blockSize)
    }

    private func ustarBlock(typeFlag: UInt8) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: TarHeader.blockSize)
        func put(_ bytes: [UInt8], at offset: Int, length: Int) {
            for (index, byte) in bytes.prefix(length).enumerated() { block[offset + index] = byte }
        }
        put(TarHeader.truncatedASCII(name, limit: 100), at: 0, length: 100)
        put(TarHeader.octal(Int64(mode & 0o7777), width: 8), at: 100, length: 8)
        put(TarHeader.octal(Int64(uid), width: 8), at: 108, length: 8)
        put(TarHeader.octal(Int64(gid), width: 8), at: 116, length: 8)
        put(TarHeader.numeric(size, width: 12), at: 124, length: 12)
        put(TarHeader.numeric(min(max(modificationTime, 0), TarHeader.maxOctal11), width: 12), at: 136, length: 12)
        block[156] = typeFlag
        put(TarHeader.truncatedASCII(linkName, limit: 100), at: 157, length: 100)
        put(Array("ustar\0".utf8), at: 257, length: 6)
        put(Array("00".utf8), at: 263, length: 2)
        put(TarHeader.octal(0, width: 8), at: 329, length: 8)
        put(TarHeader.octal(0, width: 8), at: 337, length: 8)
        // The checksum is computed with its own field read as eight spaces.
        for index in 148..<156 { block[index] = 0x20 }
        let checksum = block.reduce(0) { $0 + Int64($1) }
        put(TarHeader.octal(checksum, width: 7), at: 148, length: 7)
        block[155] = 0x20
        return block
    }

    /// A name fits the ustar field when it is ASCII, at most 100 bytes, and has no NUL.
    private static func fitsUstar(_ text: String) -> Bool {
        text.utf8.count <= 100 && text.utf8.allSatisfy { $0 != 0 && $0 < 0x80 }
    }

    /// The ustar field's stand-in when the real value lives in the PAX header: ASCII only, cut at `limit`.
    private static func truncatedASCII(_ text: String, limit: Int) -> [UInt8] {
        Array(text.utf8.map { $0 < 0x80 && $0 != 0 ? $0 : UInt8(ascii: "_") }.prefix(limit))
    }

    /// `width - 1` zero-padded octal digits and a NUL.
    static func octal(_ value: Int64, width: Int) -> [UInt8] {
        let digits = String(value, radix: 8)
        let padded = String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        return Array(padded.utf8) + [0]
    }

    /// Octal when it fits, else GNU base-256 (high bit set, big-endian), which GNU tar and Go read.
    static func numeric(_ value: Int64, width: Int) -> [UInt8] {
        if value >= 0, value <= maxOctal11 || width != 12 {
            return octal(value, width: width)
        }
        var bytes = [UInt8](repeating: 0, count: width)
        var remaining = UInt64(bitPattern: value)
        for index in stride(from: width - 1, through: 1, by: -1) {
            bytes[index] = UInt8(remaining & 0xff)
            remaining >>= 8
        }
        bytes[0] = 0x80
        return bytes
    }

    /// A PAX record, `"<length> <key>=<value>\n"`, whose length counts its own digits.
    static func paxRecord(key: String, value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        let bodyLength = body.utf8.count
        var length = bodyLength + 1
        while String(length).utf8.count + bodyLength != length { length = String(length).utf8.count + bodyLength }
        return Array((String(length) + body).utf8)
    }
}
