import Foundation
import HTTPTransport
import Synchronization

extension RegistryClient {
    /// Streams the blob's bytes to `onChunk` (called on the transfer thread, in order). A registry that keeps blobs
    /// in other storage redirects there; the login is not sent along (HTTPTransport drops it on another origin).
    /// `firstBytes`: only that many from its start (a `Range` request); a registry that ignores the range sends the
    /// whole blob, so `onChunk` stops reading by throwing when it has enough.
    package func readBlob(
        repository: String, digest: String, firstBytes: Int64? = nil, onChunk: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws {
        let range = firstBytes.flatMap { $0 > 0 ? 0...($0 - 1) : nil }
        try await streamBlob(repository: repository, digest: digest, range: range, wholeWillDo: true, checked: false, onChunk: onChunk)
    }

    /// The bytes `range` of the blob (a `Range` request), for a copy that goes up in parts. `checked`: an earlier part
    /// was read already (its HEAD bought the token), so this one asks no HEAD first. A registry that ignores the range
    /// serves only a part at the blob's start (its first bytes are kept); for any other, that is an error.
    package func readBlobPart(repository: String, digest: String, range: ClosedRange<Int64>, checked: Bool) async throws -> [UInt8] {
        let part = RangeBody(range: range)
        do {
            try await streamBlob(
                repository: repository, digest: digest, range: range, wholeWillDo: range.lowerBound == 0, checked: checked, onChunk: part.append)
        } catch is RangeBody.Enough {}
        let bytes = part.collected
        guard bytes.count == part.wanted else {
            throw RegistryError.unexpectedStatus(
                operation: "reading bytes \(range.lowerBound)-\(range.upperBound) of blob \(digest) from \(registryName)/\(repository)",
                status: 206, body: "\(bytes.count) bytes came, not \(part.wanted)")
        }
        return bytes
    }

    /// The blob's bytes, or those of `range`, streamed to `onChunk`. `wholeWillDo`: a 200 with the whole blob is
    /// accepted for a range request (`onChunk` stops reading when it has enough).
    private func streamBlob(
        repository: String, digest: String, range: ClosedRange<Int64>?, wholeWillDo: Bool, checked: Bool,
        onChunk: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws {
        let operation = "reading blob \(digest) from \(registryName)/\(repository)"
        // A HEAD first: it buys a token where the registry wants one and is retried like every request; the GET
        // that follows streams, so it cannot be.
        if !checked {
            guard try await blobExists(repository: repository, digest: digest) else {
                throw RegistryError.rejected(operation: operation, status: 404, code: "BLOB_UNKNOWN", message: "no such blob")
            }
        }
        let url = "\(baseURL)/v2/\(repository)/blobs/\(digest)"
        var request = HTTPRequest(method: "GET", url: url)
        if let authorization = authorization(for: url, credentials: login.credentials) { request.headers["Authorization"] = authorization }
        if let range { request.headers["Range"] = "bytes=\(range.lowerBound)-\(range.upperBound)" }
        let expected: Set<Int> = range == nil ? [200] : wholeWillDo ? [200, 206] : [206]
        let status = Mutex(0)
        do {
            try await http.send(
                request,
                onHead: { head in
                    status.withLock { $0 = head.status }
                    guard expected.contains(head.status) else {
                        throw RegistryError.unexpectedStatus(operation: operation, status: head.status, body: "")
                    }
                }, onBody: onChunk)
        } catch HTTPError.cancelled {
            throw CancellationError()
        } catch HTTPError.bodyCallbackFailed(_, let underlying) {
            throw underlying
        } catch let error as HTTPError {
            throw RegistryError.transport(operation: operation, detail: error.description)
        }
        if !expected.contains(status.withLock({ $0 })) {
            throw RegistryError.unexpectedStatus(operation: operation, status: status.withLock { $0 }, body: "")
        }
    }

    /// Copies a blob from another registry into `repository` here, as one stream: its download feeds its upload
    /// through a small buffer (memory stays flat whatever its size), its digest is kept (nothing is recompressed)
    /// and checked on the way. A failure on either side starts both again, as an upload restarts, within
    /// `retryPolicy`'s budget. `session`: an upload session already open in `repository` (a refused mount's) for the
    /// first attempt; a failed attempt closes it and the next opens its own.
    package func copyBlob(
        digest: String, size: Int64, from source: RegistryClient, sourceRepository: String, to repository: String, session: String? = nil,
        progress: @escaping @Sendable (Int64) -> Void = { _ in }
    ) async throws {
        let started = ContinuousClock.now
        var attempt = 0
        var session = session
        while true {
            attempt += 1
            do {
                defer { session = nil }
                do {
                    try await copyOnce(
                        digest: digest, size: size, from: source, sourceRepository: sourceRepository, to: repository, session: session,
                        progress: progress)
                } catch {
                    if let session { await cancelSession(session) }
                    throw error
                }
                return
            } catch let error as RegistryError where error.isRetryable {
                // Neither side given up on (a registry that never answered).
                guard reachability.unreachable == nil, source.reachability.unreachable == nil,
                    let delay = retryPolicy.delay(afterAttempt: attempt, retryAfter: nil, elapsed: started.secondsSince)
                else { throw error }
                onRetry?(
                    RegistryRetryNotice(
                        operation: "copy of \(digest) from \(source.registryName)", delay: delay, reason: error.description, attempt: attempt))
                try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
            }
            progress(0)
        }
    }

    private func copyOnce(
        digest: String, size: Int64, from source: RegistryClient, sourceRepository: String, to repository: String, session: String?,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws {
        let pipe = BlobPipe(digest: digest, size: size)
        let sent = Mutex<Int64>(0)
        let body = HTTPBody.stream(length: size) { buffer in
            let count = try pipe.read(into: buffer)
            progress(
                sent.withLock {
                    $0 += Int64(count); return $0
                })
            return count
        }
        enum Side { case download, upload }
        try await withThrowingTaskGroup(of: Side.self) { group in
            group.addTask {
                do {
                    try await source.readBlob(repository: sourceRepository, digest: digest) { chunk in try pipe.write(chunk) }
                    pipe.finish()
                } catch {
                    pipe.fail(error)
                    throw error
                }
                return .download
            }
            group.addTask {
                do {
                    try await self.uploadOnce(repository: repository, digest: { digest }, size: size, session: session, body: { body })
                } catch {
                    pipe.fail(error)
                    throw error
                }
                // The registry may take the blob without reading it (201: it had it already): stop the download.
                pipe.fail(CancellationError())
                return .upload
            }
            var failures: [any Error] = []
            var uploaded = false
            while let result = await group.nextResult() {
                switch result {
                case .success(let side): uploaded = uploaded || side == .upload
                case .failure(let error): failures.append(error)
                }
            }
            if uploaded { return }
            // The download's failure is the cause when both fail: the upload only saw the pipe break.
            if let first = failures.first(where: { !($0 is CancellationError) }) ?? failures.first { throw first }
        }
    }
}
