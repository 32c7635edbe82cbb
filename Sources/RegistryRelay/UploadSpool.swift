import Foundation
import Hashing
import Synchronization

/// One upload session of the Engine's: its bytes written to a temporary file as they arrive (memory stays flat
/// whatever the layer's size) and hashed on the way, so that the digest the Engine names is checked before
/// anything is sent on.
final class UploadSpool: Sendable {
    let path: String
    private struct State: ~Copyable {
        /// -1 once closed.
        var descriptor: Int32
        var size: Int64 = 0
        var hasher = SHA256()
    }
    private let state: Mutex<State>

    init(directory: String, session: String) throws(RelayError) {
        path = "\(directory)/\(session).blob"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .spool(path: path, errno: errno) }
        state = Mutex(State(descriptor: descriptor))
    }

    var size: Int64 { state.withLock { $0.size } }

    /// Appends `bytes` (an error once the spool is closed).
    func append(_ bytes: UnsafeRawBufferPointer) throws(RelayError) {
        let path = self.path
        try state.withLock { (state: inout State) throws(RelayError) in
            guard state.descriptor >= 0 else { throw .spool(path: path, errno: EBADF) }
            var offset = 0
            while offset < bytes.count {
                let written = write(state.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw .spool(path: path, errno: errno)
                }
                offset += written
            }
            state.hasher.update(bytes)
            state.size += Int64(bytes.count)
        }
    }

    /// Closes the file and gives the digest and size of what was written; nil when closed already.
    func finish() -> (digest: String, size: Int64)? {
        state.withLock { (state: inout State) -> (digest: String, size: Int64)? in
            guard state.descriptor >= 0 else { return nil }
            close(state.descriptor)
            state.descriptor = -1
            return (state.hasher.currentDigest().ociDigest, state.size)
        }
    }

    /// Closes (when still open) and deletes the file.
    func discard() {
        state.withLock { (state: inout State) in
            if state.descriptor >= 0 { close(state.descriptor) }
            state.descriptor = -1
        }
        unlink(path)
    }
}
