/// One regular entry while its content streams in: the first bytes are held back until they show whether
/// the entry is gzip, a tar, or small metadata; then they and everything after go to the chosen place.
final class PendingEntry: TarEntryConsumer {
    private static let sniffLength = 512

    private enum Mode {
        case sniffing
        case memory
        case blob(any BlobWriter, looksLikeLayer: Bool)
    }

    private let path: String
    private let size: Int64
    private let store: ArchiveEntryStore
    private var mode: Mode = .sniffing
    private var held: [UInt8] = []

    /// `writer`: where the bytes go, decided already (no sniffing).
    init(path: String, size: Int64, store: ArchiveEntryStore, writer: (any BlobWriter)? = nil) {
        self.path = path
        self.size = size
        self.store = store
        if let writer { mode = .blob(writer, looksLikeLayer: false) }
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        switch mode {
        case .memory:
            held.append(contentsOf: bytes)
        case .blob(let writer, _):
            try writer.write(bytes)
        case .sniffing:
            let wanted = Int(min(Int64(Self.sniffLength), size)) - held.count
            let take = min(wanted, bytes.count)
            held.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
            guard held.count == Int(min(Int64(Self.sniffLength), size)) else { return }
            try decide()
            if take < bytes.count { try consume(UnsafeRawBufferPointer(rebasing: bytes[take...])) }
        }
    }

    func finish() throws {
        if case .sniffing = mode { try decide() }
        switch mode {
        case .sniffing, .memory:
            store.record(path, .memory(held))
        case .blob(let writer, let looksLikeLayer):
            store.record(path, .blob(store.adopt(try writer.complete(), looksLikeLayer: looksLikeLayer)))
        }
    }

    private func decide() throws {
        let kind = held.withUnsafeBytes { store.kind(path: path, size: size, prefix: $0) }
        switch kind {
        case .memory:
            held.reserveCapacity(Int(size))
            mode = .memory
        case .compress, .passthroughGzip, .unusable:
            let writer = try store.makeWriter(kind, entry: (path, size))
            try held.withUnsafeBytes { try writer.write($0) }
            held = []
            mode = .blob(writer, looksLikeLayer: kind.looksLikeLayer)
        }
    }
}
