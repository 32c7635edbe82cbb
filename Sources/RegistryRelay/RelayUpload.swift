/// An upload the Engine is still sending to the relay, for a destination that can take it as it arrives
/// (`RelayUpstream.uploadArriving`): its bytes from the first, following the Engine, and its digest once the
/// Engine has finished and the bytes checked out.
package struct RelayUpload: Sendable {
    private let spool: UploadSpool

    init(_ spool: UploadSpool) { self.spool = spool }

    /// A reader from the first byte; each may be read once, so a destination that starts over opens another.
    /// `read(into:)` blocks (call it on a transfer's own thread) until the Engine sent more; 0 is the end.
    package func openReader() throws -> @Sendable (UnsafeMutableRawBufferPointer) throws -> Int {
        let reader = try spool.openReader()
        return { buffer in try reader.read(into: buffer) }
    }

    /// The blob's digest, once its bytes checked out; throws when the upload was abandoned or its bytes were not
    /// the digest the Engine named (the destination must then not keep what it got).
    package func digest() async throws -> String { try await spool.acceptedDigest() }
}
