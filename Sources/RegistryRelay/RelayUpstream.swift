/// Where the relay sends what the Engine pushes to it: the destination repository, reached by ecrpush's own
/// clients with ecrpush's own login (the Engine never sees a registry password). Each call may wait for what the
/// push prepares beside the Engine (its login, the base layers it mounts or copies into the repository).
package protocol RelayUpstream: Sendable {
    /// The blob's size when the destination holds `digest`, else nil (the Engine then uploads it).
    func blobSize(_ digest: String) async throws -> Int64?
    /// The Engine started an upload: the destination may open a session of its own now, so that sending the blob
    /// on once it is whole takes fewer round trips. Returns at once.
    func uploadStarted()
    /// Sends a blob while the Engine uploads it (called once the upload outgrows `RegistryRelay.sendOnArrivalPast`):
    /// true once the destination has it under the digest `upload` gives; false when this destination cannot take a
    /// blob that way, or the sending failed in a way that sending the whole blob may not (the relay then sends it
    /// with `uploadBlob`); throws when the destination refused it. Nothing may be kept when `upload.digest()` throws.
    func uploadArriving(_ upload: RelayUpload) async throws -> Bool
    /// Sends a blob the Engine uploaded, spooled whole (digest checked) in the file at `path`.
    func uploadBlob(digest: String, size: Int64, path: String) async throws
    /// The relay stopped: whatever `uploadStarted` prepared and no upload used may go.
    func relayStopped() async
    /// Puts the image's manifest (these exact bytes, whose SHA-256 is `digest`) under the push's tags.
    func putManifest(bytes: [UInt8], mediaType: String, digest: String) async throws
}
