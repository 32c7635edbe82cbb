/// A push-based tar reader: feed it chunks of any size as they arrive; it reports each entry's header to
/// `onEntry` and streams the entry's content to the consumer that `onEntry` returns (nil skips the content).
///
/// It holds only the current 512-byte header and the content of metadata entries (GNU `L`/`K` long names,
/// PAX `x`/`g` records, capped at `metadataLimit`), never a whole file. Understands ustar, GNU and PAX
/// archives, base-256 sizes, padding and the two zero blocks that end an archive (anything after them,
/// such as GNU tar's record padding, is ignored). Use from one thread at a time.
package final class TarStreamReader {
    package typealias EntryHandler = (TarEntryHeader) throws -> (any TarEntryConsumer)?

    package static let defaultMetadataLimit = 1 << 20

    private enum State {
        case header
        case content(remaining: Int64, padding: Int)
        case metadata(typeFlag: UInt8, remaining: Int64, padding: Int)
        case padding(remaining: Int)
        case end
    }

    private let onEntry: EntryHandler
    private let metadataLimit: Int
    private var state: State = .header
    private let headerBuffer: UnsafeMutableRawBufferPointer
    private var headerFill = 0
    private var zeroBlocks = 0
    private var consumer: (any TarEntryConsumer)?
    private var currentPath: String?

    // Metadata that applies to the next real entry (GNU long names, PAX 'x') or all following ones (PAX 'g').
    private var metadataContent: [UInt8] = []
    private var metadataStart: Int64?
    private var pendingLongName: String?
    private var pendingLongLink: String?
    private var pendingPAX: [String: String] = [:]
    private var globalPAX: [String: String] = [:]

    /// Bytes fed so far.
    package private(set) var offset: Int64 = 0
    /// True once the end marker has been read.
    package var isAtEnd: Bool { if case .end = state { return true } else { return false } }

    package init(metadataLimit: Int = TarStreamReader.defaultMetadataLimit, onEntry: @escaping EntryHandler) {
        self.onEntry = onEntry
        self.metadataLimit = metadataLimit
        headerBuffer = .allocate(byteCount: TarHeaderBlock.size, alignment: 16)
    }

    deinit { headerBuffer.deallocate() }

    package func feed(_ chunk: UnsafeRawBufferPointer) throws {
        guard let base = chunk.baseAddress else { return }
        var position = 0
        let count = chunk.count
        while position < count {
            let available = count - position
            switch state {
            case .header:
                let take = min(TarHeaderBlock.size - headerFill, available)
                (headerBuffer.baseAddress! + headerFill).copyMemory(from: base + position, byteCount: take)
                headerFill += take
                position += take
                offset += Int64(take)
                if headerFill == TarHeaderBlock.size {
                    headerFill = 0
                    try processHeader(at: offset - Int64(TarHeaderBlock.size))
                }
            case .content(let remaining, let padding):
                let take = Int(min(Int64(available), remaining))
                if let consumer {
                    try consumer.consume(UnsafeRawBufferPointer(start: base + position, count: take))
                }
                position += take
                offset += Int64(take)
                if remaining == Int64(take) {
                    try finishEntry(padding: padding)
                } else {
                    state = .content(remaining: remaining - Int64(take), padding: padding)
                }
            case .metadata(let typeFlag, let remaining, let padding):
                let take = Int(min(Int64(available), remaining))
                metadataContent.append(contentsOf: UnsafeRawBufferPointer(start: base + position, count: take))
                position += take
                offset += Int64(take)
                if remaining == Int64(take) {
                    try applyMetadata(typeFlag: typeFlag)
                    state = padding > 0 ? .padding(remaining: padding) : .header
                } else {
                    state = .metadata(typeFlag: typeFlag, remaining: remaining - Int64(take), padding: padding)
                }
            case .padding(let remaining):
                let take = min(available, remaining)
                position += take
                offset += Int64(take)
                state = remaining == take ? .header : .padding(remaining: remaining - take)
            case .end:
                // Trailing bytes after the end marker (GNU tar pads to its 10 KiB record size).
                offset += Int64(available)
                position = count
            }
        }
    }

    package func feed(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try feed($0) }
    }

    /// Call at the end of the stream: throws `truncatedArchive` unless the end marker was read.
    package func finish() throws {
        guard isAtEnd else {
            throw ImageExportError.truncatedArchive(offset: offset, entry: currentPath)
        }
    }

    // MARK: - Headers

    private func processHeader(at headerOffset: Int64) throws {
        let block = TarHeaderBlock(bytes: UnsafeRawBufferPointer(headerBuffer))
        if block.isAllZero {
            zeroBlocks += 1
            if zeroBlocks == 2 { state = .end }
            return
        }
        guard zeroBlocks == 0 else {
            throw ImageExportError.malformedArchive(offset: headerOffset - 512, reason: "a lone zero block in the middle of the archive")
        }
        guard block.checksumIsValid else {
            throw ImageExportError.malformedArchive(offset: headerOffset, reason: "header checksum mismatch")
        }
        guard let headerSize = block.number(at: 124, length: 12), headerSize >= 0 else {
            throw ImageExportError.malformedArchive(offset: headerOffset, reason: "invalid size field")
        }
        let typeFlag = block.typeFlag
        let metadataStart = self.metadataStart ?? headerOffset

        switch typeFlag {
        case UInt8(ascii: "L"), UInt8(ascii: "K"), UInt8(ascii: "x"), UInt8(ascii: "g"):
            guard headerSize <= Int64(metadataLimit) else {
                throw ImageExportError.entryTooLarge(path: block.name, size: headerSize, limit: Int64(metadataLimit))
            }
            self.metadataStart = metadataStart
            metadataContent.removeAll(keepingCapacity: true)
            metadataContent.reserveCapacity(Int(headerSize))
            if headerSize == 0 {
                try applyMetadata(typeFlag: typeFlag)
            } else {
                state = .metadata(typeFlag: typeFlag, remaining: headerSize, padding: Self.padding(for: headerSize))
            }
            currentPath = nil
            return
        default:
            break
        }

        // A real entry: merge global PAX, then per-entry PAX (which wins), then GNU long names.
        let pax = globalPAX.merging(pendingPAX) { _, entry in entry }
        var size = headerSize
        if let paxSize = pax["size"] {
            guard let parsed = Int64(paxSize), parsed >= 0 else {
                throw ImageExportError.malformedArchive(offset: headerOffset, reason: "invalid PAX size \"\(paxSize)\"")
            }
            size = parsed
        }
        let kind = TarEntryHeader.Kind(typeFlag: typeFlag)
        // Links, directories and devices carry no content whatever the size field says (POSIX).
        switch kind {
        case .hardLink, .symbolicLink, .directory, .characterDevice, .blockDevice, .fifo: size = 0
        case .regular, .other: break
        }
        let path = pax["path"] ?? pendingLongName ?? block.name
        let linkTarget = pax["linkpath"] ?? pendingLongLink ?? block.linkName
        var modificationTime = block.number(at: 136, length: 12) ?? 0
        if let mtime = pax["mtime"], let seconds = Double(mtime) { modificationTime = Int64(seconds.rounded(.down)) }
        let header = TarEntryHeader(
            path: path, kind: kind, size: size, linkTarget: linkTarget,
            mode: UInt32(truncatingIfNeeded: block.number(at: 100, length: 8) ?? 0),
            modificationTime: modificationTime, headerOffset: metadataStart)

        pendingPAX = [:]
        pendingLongName = nil
        pendingLongLink = nil
        self.metadataStart = nil
        currentPath = path

        consumer = try onEntry(header)
        if size == 0 {
            try finishEntry(padding: 0)
        } else {
            state = .content(remaining: size, padding: Self.padding(for: size))
        }
    }

    private func finishEntry(padding: Int) throws {
        let finished = consumer
        consumer = nil
        try finished?.finish()
        currentPath = nil
        state = padding > 0 ? .padding(remaining: padding) : .header
    }

    private func applyMetadata(typeFlag: UInt8) throws {
        let headerOffset = metadataStart ?? offset
        switch typeFlag {
        case UInt8(ascii: "L"):
            pendingLongName = Self.nulTerminatedString(metadataContent)
        case UInt8(ascii: "K"):
            pendingLongLink = Self.nulTerminatedString(metadataContent)
        case UInt8(ascii: "x"), UInt8(ascii: "g"):
            guard let records = PAXRecords.parse(metadataContent) else {
                throw ImageExportError.malformedArchive(offset: headerOffset, reason: "invalid PAX extended header")
            }
            if typeFlag == UInt8(ascii: "x") {
                pendingPAX.merge(records) { _, new in new }
            } else {
                globalPAX.merge(records) { _, new in new }
                // A global header applies to what follows, not to the next entry alone.
                metadataStart = nil
            }
        default:
            break
        }
        metadataContent.removeAll(keepingCapacity: metadataContent.capacity <= 64 * 1024)
    }

    private static func nulTerminatedString(_ bytes: [UInt8]) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    private static func padding(for size: Int64) -> Int {
        let remainder = Int(size % Int64(TarHeaderBlock.size))
        return remainder == 0 ? 0 : TarHeaderBlock.size - remainder
    }
}
