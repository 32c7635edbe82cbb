import Hashing
import ImageExport

/// Records what a TarStreamReader reports: every header, and each entry's content digest and size.
final class TarCollector {
    final class Entry: TarEntryConsumer {
        let header: TarEntryHeader
        private var hasher = SHA256()
        private(set) var byteCount: Int64 = 0
        private(set) var finishCount = 0
        private(set) var digest: String?

        init(header: TarEntryHeader) { self.header = header }

        func consume(_ bytes: UnsafeRawBufferPointer) throws {
            precondition(digest == nil, "content after finish")
            hasher.update(bytes)
            byteCount += Int64(bytes.count)
        }

        func finish() throws {
            finishCount += 1
            digest = hasher.currentDigest().ociDigest
        }
    }

    private(set) var entries: [Entry] = []

    func makeReader() -> TarStreamReader {
        TarStreamReader { [self] header in
            let entry = Entry(header: header)
            entries.append(entry)
            return entry
        }
    }

    var byPath: [String: Entry] {
        Dictionary(entries.map { ($0.header.path, $0) }, uniquingKeysWith: { _, last in last })
    }
}

/// Hand-made tar blocks, for what the tar command can't be asked to write (base-256 sizes, odd PAX records).
enum TarBlocks {
    static func header(
        name: String, typeFlag: Character = "0", size: Int64 = 0, sizeField: [UInt8]? = nil,
        linkName: String = "", mode: Int = 0o644
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int) { for (index, byte) in bytes.enumerated() { block[offset + index] = byte } }
        func octal(_ value: Int64, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: width - 1 - digits.count) + digits).utf8) + [0]
        }
        put(Array(name.utf8.prefix(100)), at: 0)
        put(octal(Int64(mode), width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(sizeField ?? octal(size, width: 12), at: 124)
        put(octal(1_700_000_000, width: 12), at: 136)
        block[156] = typeFlag.asciiValue!
        put(Array(linkName.utf8.prefix(100)), at: 157)
        put(Array("ustar\u{0}00".utf8), at: 257)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
        let sum = block.reduce(0) { $0 + Int64($1) }
        put(octal(sum, width: 7) + [UInt8(ascii: " ")], at: 148)
        return block
    }

    /// Content followed by zero padding to a 512-byte boundary.
    static func padded(_ content: [UInt8]) -> [UInt8] {
        content + [UInt8](repeating: 0, count: (512 - content.count % 512) % 512)
    }

    static func paxRecords(_ records: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (key, value) in records {
            let body = " \(key)=\(value)\n"
            var length = body.utf8.count + 1
            while String(length).utf8.count + body.utf8.count != length { length += 1 }
            out += Array((String(length) + body).utf8)
        }
        return out
    }

    static let endMarker = [UInt8](repeating: 0, count: 1024)
}
