import Foundation
import Hashing

/// One upload session of the Engine's: its bytes written to a temporary file as they arrive (memory stays flat
/// whatever the layer's size) and hashed on the way, so that the digest the Engine names is checked before the
/// destination is told to keep the blob.
///
/// The file can be read while it grows (`Reader`): the destination gets the bytes as the Engine sends them, and
/// only the digest's round trip is left once the Engine has finished (`accept`), instead of the whole blob.
final class UploadSpool: @unchecked Sendable {
    let path: String
    private let condition = NSCondition()
    /// -1 once finished or discarded.
    private var descriptor: Int32
    private var size: Int64 = 0
    private var hasher = SHA256()
    private var finished = false
    private var accepted: String?
    /// Discarded before `accept`: readers and waits for the digest fail.
    private var abandoned = false
    private var digestWaiters: [CheckedContinuation<String, any Error>] = []
    private var growthWaiters: [(bytes: Int64, continuation: CheckedContinuation<Bool, Never>)] = []

    init(directory: String, session: String) throws(RelayError) {
        path = "\(directory)/\(session).blob"
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .spool(path: path, errno: errno) }
    }

    var bytesWritten: Int64 { locked { size } }

    /// Appends `bytes` (an error once the spool is finished or discarded).
    func append(_ bytes: UnsafeRawBufferPointer) throws(RelayError) {
        condition.lock()
        var grown: [CheckedContinuation<Bool, Never>] = []
        defer {
            condition.unlock()
            for waiter in grown { waiter.resume(returning: true) }
        }
        guard descriptor >= 0 else { throw .spool(path: path, errno: EBADF) }
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw .spool(path: path, errno: errno)
            }
            offset += written
        }
        hasher.update(bytes)
        size += Int64(bytes.count)
        condition.broadcast()
        grown = growthWaiters.filter { $0.bytes < size }.map(\.continuation)
        growthWaiters.removeAll { $0.bytes < size }
    }

    /// Closes the file and gives the digest and size of what was written; nil when finished or discarded already.
    /// Readers then reach the end; the blob is not the destination's to keep until `accept`.
    func finish() -> (digest: String, size: Int64)? {
        condition.lock()
        var stopped: [CheckedContinuation<Bool, Never>] = []
        defer {
            condition.unlock()
            for waiter in stopped { waiter.resume(returning: false) }
        }
        guard descriptor >= 0 else { return nil }
        close(descriptor)
        descriptor = -1
        finished = true
        condition.broadcast()
        (stopped, growthWaiters) = (growthWaiters.map(\.continuation), [])
        return (hasher.currentDigest().ociDigest, size)
    }

    /// True once more than `bytes` are written; false when the upload ends (finished or discarded) at or below.
    func grows(past bytes: Int64) async -> Bool {
        await withCheckedContinuation { continuation in
            let answer: Bool? = locked {
                if size > bytes { return true }
                if descriptor < 0 { return false }
                growthWaiters.append((bytes, continuation))
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    /// The finished bytes checked out as `digest`: whoever waits in `acceptedDigest()` may finish the upload.
    func accept(_ digest: String) {
        let waiters = locked { () -> [CheckedContinuation<String, any Error>] in
            guard finished, !abandoned, accepted == nil else { return [] }
            accepted = digest
            defer { digestWaiters = [] }
            return digestWaiters
        }
        for waiter in waiters { waiter.resume(returning: digest) }
    }

    /// Closes (when still open) and deletes the file; a reader or a wait for the digest not yet answered fails.
    func discard() {
        let (waiters, growth) = locked { () -> ([CheckedContinuation<String, any Error>], [CheckedContinuation<Bool, Never>]) in
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
            if accepted == nil { abandoned = true }
            condition.broadcast()
            defer { (digestWaiters, growthWaiters) = ([], []) }
            return (digestWaiters, growthWaiters.map(\.continuation))
        }
        for waiter in waiters { waiter.resume(throwing: RelayError.uploadAbandoned) }
        for waiter in growth { waiter.resume(returning: false) }
        unlink(path)
    }

    /// The digest the Engine named, once its bytes checked out; throws when the upload is abandoned instead.
    func acceptedDigest() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            let answer: Result<String, any Error>? = locked {
                if let accepted { return .success(accepted) }
                if abandoned { return .failure(RelayError.uploadAbandoned) }
                digestWaiters.append(continuation)
                return nil
            }
            if let answer { continuation.resume(with: answer) }
        }
    }

    /// A reader of the file from its first byte, following the Engine's writes.
    func openReader() throws(RelayError) -> Reader {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .spool(path: path, errno: errno) }
        return Reader(spool: self, descriptor: descriptor)
    }

    /// Blocks until more than `offset` bytes are written or the upload is finished; how many bytes are written
    /// (== `offset` only at the end). Throws once the upload is abandoned.
    fileprivate func waitBeyond(_ offset: Int64) throws(RelayError) -> Int64 {
        condition.lock()
        defer { condition.unlock() }
        while size <= offset, !finished, !abandoned { condition.wait() }
        if abandoned { throw .uploadAbandoned }
        return size
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    /// Reads the spool front to back on a thread of its own (an upload's transfer thread, never Swift's cooperative
    /// pool: `read(into:)` blocks while the Engine has not sent more).
    final class Reader: @unchecked Sendable {
        private let spool: UploadSpool
        private let descriptor: Int32
        private var offset: Int64 = 0

        fileprivate init(spool: UploadSpool, descriptor: Int32) {
            self.spool = spool
            self.descriptor = descriptor
        }

        deinit { close(descriptor) }

        /// At least one byte, or 0 once the Engine finished and every byte was read.
        func read(into buffer: UnsafeMutableRawBufferPointer) throws(RelayError) -> Int {
            guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
            let available = try spool.waitBeyond(offset)
            guard available > offset else { return 0 }
            while true {
                let count = pread(descriptor, base, Int(min(Int64(buffer.count), available - offset)), off_t(offset))
                if count > 0 {
                    offset += Int64(count)
                    return count
                }
                if count < 0, errno == EINTR { continue }
                throw .spool(path: spool.path, errno: count == 0 ? EIO : errno)
            }
        }
    }
}
