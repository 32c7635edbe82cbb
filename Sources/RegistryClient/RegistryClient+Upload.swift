import Foundation
import HTTPTransport

extension RegistryClient {
    /// Uploads a blob: `POST /v2/<repo>/blobs/uploads/` (or a session opened ahead), then `PUT <location>?digest=`
    /// with the whole blob, streamed. A retryable failure starts a fresh upload session after `retryPolicy`'s backoff
    /// (never re-sending from byte 0 on the old one); a 401 gets one fresh login. A cancelled task cancels the
    /// open session (`DELETE`, best effort, bounded). `progress` gets the bytes sent so far, from the transfer
    /// thread.
    package func uploadBlob(
        repository: String, digest: String, size: Int64, content: BlobContent,
        progress: @escaping @Sendable (Int64) -> Void = { _ in }
    ) async throws {
        let started = ContinuousClock.now
        var attempt = 0
        var refreshed = false
        while true {
            attempt += 1
            let generation = login.current.generation
            do {
                try await uploadOnce(
                    repository: repository, digest: { digest }, size: size, sessionAhead: true,
                    body: { try Self.body(content, size: size, progress: progress) })
                return
            } catch RegistryError.unauthorized(let registry, let message) {
                guard !refreshed, try await freshLogin(after: generation, for: "upload of \(digest)", attempt: attempt) else {
                    throw RegistryError.unauthorized(registry: registry, message: message)
                }
                refreshed = true
            } catch let error as RegistryError where error.isRetryable {
                // A registry given up on (it never answered) gets no fresh session either.
                guard reachability.unreachable == nil,
                    let delay = retryPolicy.delay(afterAttempt: attempt, retryAfter: nil, elapsed: started.secondsSince)
                else { throw error }
                onRetry?(
                    RegistryRetryNotice(
                        operation: "upload of \(digest) on a fresh session", delay: delay, reason: error.description, attempt: attempt))
                try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
            }
            progress(0)
        }
    }

    /// Uploads a blob whose bytes are still being produced (a layer while it is compressed): one `PATCH` whose
    /// body `read` streams with chunked encoding until it returns 0, then `PUT ?digest=` with the digest `digest`
    /// gives once the stream has ended. `name` stands for the blob in messages until then. No retry: a failure is
    /// the caller's to handle, typically with `uploadBlob` of the finished blob. `read` runs on the transfer's
    /// thread and may block.
    package func uploadStreamingBlob(
        repository: String, name: String, read: @escaping @Sendable (UnsafeMutableRawBufferPointer) throws -> Int,
        digest: () async throws -> String
    ) async throws {
        try await uploadOnce(repository: repository, name: name, digest: digest, size: nil, body: { .stream(length: nil, producer: read) })
    }

    /// Uploads a blob whose bytes are still arriving, as `uploadStreamingBlob` does, on a session opened ahead where
    /// there is one (`openUploadSessionAhead`). `open` gives a reader from the blob's first byte each time it is
    /// called: a session opened ahead that turns out gone is replaced, and the bytes start over on the new one.
    package func uploadArrivingBlob(
        repository: String, name: String, open: @escaping () throws -> @Sendable (UnsafeMutableRawBufferPointer) throws -> Int,
        digest: () async throws -> String
    ) async throws {
        try await uploadOnce(
            repository: repository, name: name, digest: digest, size: nil, sessionAhead: true, body: { .stream(length: nil, producer: try open()) })
    }

    /// One upload session; `body` makes the blob's body once the session is open, and `digest` names the blob once
    /// it is sent. A blob of known `size` goes up in the `PUT ?digest=` that finishes the session (OCI's monolithic
    /// upload: a round trip fewer than a `PATCH` first); one whose size is not known yet (nil: a layer still being
    /// compressed) in a chunked `PATCH`, then the `PUT`. With `sessionAhead` (for a `body` that can be made again from its start),
    /// a session opened ahead (`openUploadSessionAhead`) saves the `POST` as well; if the registry no longer knows
    /// it, a fresh session takes the blob at once. `session`: one the caller opened (a refused mount's), taken as it is.
    func uploadOnce(
        repository: String, name: String? = nil, digest: () async throws -> String, size: Int64?, sessionAhead: Bool = false,
        session given: String? = nil, body: () throws -> HTTPBody
    ) async throws {
        let name = try await { if let name { return name } else { return try await digest() } }()
        if let given { return try await finishUpload(at: given, repository: repository, name: name, digest: digest, size: size, body: body) }
        if sessionAhead, let location = await uploadSessionsAhead.take(repository: repository) {
            do {
                return try await finishUpload(at: location, repository: repository, name: name, digest: digest, size: size, body: body)
            } catch let error as RegistryError where !Task.isCancelled && error.isUnknownUploadSession {
                // Gone (expired or purged): the blob goes on a fresh session below.
            }
        }
        let start = "starting an upload of \(name)"
        let startURL = "\(baseURL)/v2/\(repository)/blobs/uploads/"
        // Retried on its own (a new session each time is harmless); the rest belongs to this session.
        let session = try await send("POST", startURL, headers: ["Content-Length": "0"], operation: start)
        // 201 would mean the registry mounted or already took the blob; 202 is an open session.
        if session.status == 201 { return }
        guard session.status == 202 else {
            throw responseError(for: session, operation: start, repository: repository)
        }
        let location = try Self.location(of: session, requestURL: startURL, operation: start)
        try await finishUpload(at: location, repository: repository, name: name, digest: digest, size: size, body: body)
    }

    /// Sends the blob on the open session at `location` and finishes it (see `uploadOnce`); a cancelled task, or a
    /// blob whose digest never came, cancels the session.
    private func finishUpload(
        at location: String, repository: String, name: String, digest: () async throws -> String, size: Int64?, body: () throws -> HTTPBody
    ) async throws {
        var location = location
        var unnamed = false
        do {
            if size == nil {
                let patch = "uploading \(name)"
                let sent = try await send(
                    "PATCH", location, headers: ["Content-Type": "application/octet-stream"], body: try body(), operation: patch, retries: false)
                guard sent.status == 202 || sent.status == 201 || sent.status == 204 else {
                    throw responseError(for: sent, operation: patch, repository: repository)
                }
                // The PATCH answer names where to finish; keep the session's own URL when it says nothing.
                if sent.headers["Location"] != nil { location = try Self.location(of: sent, requestURL: location, operation: patch) }
            }
            let blobDigest: String
            do {
                blobDigest = try await digest()
            } catch {
                unnamed = true
                throw error
            }
            let finish = size == nil ? "finishing the upload of \(blobDigest)" : "uploading \(blobDigest)"
            var headers = ["Content-Length": "0"]
            if let size { headers = ["Content-Type": "application/octet-stream", "Content-Length": String(size)] }
            let done = try await send(
                "PUT", RegistryURL.appendingQuery(location, name: "digest", value: blobDigest),
                headers: headers, body: size == nil ? .empty : try body(), operation: finish, retries: false)
            // The distribution registry answers 201; ECR has been seen to answer 202 (accepted, being stored).
            guard done.status == 201 || done.status == 202 || done.status == 204 else {
                throw responseError(for: done, operation: finish, repository: repository)
            }
        } catch {
            if error is CancellationError || Task.isCancelled || unnamed { await cancelSession(location) }
            throw error
        }
    }

    /// `DELETE` of an open upload session, so an interrupted push leaves nothing half-open: best effort, at most
    /// a few seconds, and outside the cancelled task (whose own requests would abort at once).
    func cancelSession(_ location: String) async {
        let client = self
        await Task.detached {
            _ = try? await client.sendOnce(
                "DELETE", location, headers: [:], body: .empty,
                credentials: client.login.credentials, authorize: client.isRegistryOrigin(location),
                operation: "cancelling the upload session", timeout: 3)
        }.value
    }

    static func location(of response: HTTPResponse, requestURL: String, operation: String) throws -> String {
        guard let location = response.headers["Location"], !location.isEmpty else {
            throw RegistryError.invalidResponse(operation: operation, detail: "HTTP \(response.status) without a Location header")
        }
        guard let resolved = RegistryURL.resolve(location, against: response.head.effectiveURL.isEmpty ? requestURL : response.head.effectiveURL)
        else {
            throw RegistryError.invalidResponse(operation: operation, detail: "Location \(location) is not a URL")
        }
        return resolved
    }

    /// The blob as a streamed body: read from its file in 1 MiB reads (memory stays flat whatever the size),
    /// reporting progress as the transfer pulls bytes.
    static func body(_ content: BlobContent, size: Int64, progress: @escaping @Sendable (Int64) -> Void) throws -> HTTPBody {
        switch content {
        case .bytes(let bytes):
            return .bytes(bytes)
        case .file(let path):
            let reader = try BlobFileReader(path: path)
            return .stream(length: size) { buffer in
                let count = try reader.read(into: buffer)
                progress(reader.offset)
                return count
            }
        }
    }
}

/// A blob file read front to back by the transfer thread (one reader per request).
final class BlobFileReader: @unchecked Sendable {
    private let descriptor: Int32
    private(set) var offset: Int64 = 0

    init(path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw RegistryError.invalidArgument("cannot read the prepared blob \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let count = Foundation.read(descriptor, base, buffer.count)
            if count >= 0 {
                offset += Int64(count)
                return count
            }
            if errno == EINTR { continue }
            throw RegistryError.transport(operation: "reading the blob", detail: String(cString: strerror(errno)))
        }
    }
}
