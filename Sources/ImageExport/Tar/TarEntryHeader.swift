/// One tar entry as the reader reports it, with GNU long names and PAX records already applied.
package struct TarEntryHeader: Sendable, Equatable {
    package enum Kind: Sendable, Equatable {
        case regular
        case hardLink
        case symbolicLink
        case characterDevice
        case blockDevice
        case directory
        case fifo
        /// Any other type flag (GNU sparse 'S', volume label 'V', ...); its content is still delivered.
        case other(UInt8)

        init(typeFlag: UInt8) {
            switch typeFlag {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): self = .regular
            case UInt8(ascii: "1"): self = .hardLink
            case UInt8(ascii: "2"): self = .symbolicLink
            case UInt8(ascii: "3"): self = .characterDevice
            case UInt8(ascii: "4"): self = .blockDevice
            case UInt8(ascii: "5"): self = .directory
            case UInt8(ascii: "6"): self = .fifo
            default: self = .other(typeFlag)
            }
        }
    }

    /// The entry's path as stored (after `L`/PAX `path`), without normalisation.
    package var path: String
    package var kind: Kind
    /// Content bytes that follow the header (after PAX `size`).
    package var size: Int64
    /// Symlink or hard-link target (after `K`/PAX `linkpath`); empty otherwise.
    package var linkTarget: String
    package var mode: UInt32
    /// Seconds since the epoch.
    package var modificationTime: Int64
    /// Byte offset of this entry's header block in the stream (of the first metadata header, if any).
    package var headerOffset: Int64

    package init(
        path: String, kind: Kind, size: Int64, linkTarget: String = "", mode: UInt32 = 0o644,
        modificationTime: Int64 = 0, headerOffset: Int64 = 0
    ) {
        self.path = path
        self.kind = kind
        self.size = size
        self.linkTarget = linkTarget
        self.mode = mode
        self.modificationTime = modificationTime
        self.headerOffset = headerOffset
    }
}

/// Receives one entry's content, in order, in chunks of any size. `finish()` follows the last chunk
/// (and is the only call for an empty entry). The chunks are only valid during the call.
package protocol TarEntryConsumer: AnyObject {
    func consume(_ bytes: UnsafeRawBufferPointer) throws
    func finish() throws
}
