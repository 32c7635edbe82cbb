internal import CCurl
import Foundation

/// What to do with the final response's head and body (called on the transfer thread, in order).
struct ResponseSink {
    /// A buffered read stops with `responseTooLarge` past this many body bytes.
    var bufferLimit: Int?
    var onHead: (HTTPResponseHead) throws -> Void
    var onBody: (UnsafeRawBufferPointer) throws -> Void
}

/// One request and its response on one easy handle: a single hop of a redirect chain. Runs (blocking) on the
/// calling thread, which is always a transfer thread of its own.
final class CurlTransfer {
    enum Outcome {
        case final(HTTPResponseHead)
        /// A redirect to follow; `location` is absolute.
        case redirect(status: Int, location: String)
    }

    private enum State {
        case awaitingHead
        case delivering
        case discardingRedirect(status: Int, headers: HTTPHeaders)
        case stopped
    }

    private let handle: UnsafeMutableRawPointer
    private let request: HTTPRequest
    private let configuration: HTTPClient.Configuration
    private let policy: RedirectPolicy
    private let cancellation: CancellationFlag
    private let sink: ResponseSink
    /// What is left of the request's total timeout for this hop.
    private let timeout: TimeInterval?

    private var parser = ResponseHeadParser()
    private var state = State.awaitingHead
    private var deliveredHead: HTTPResponseHead?
    private var bodyReader: RequestBodyReader?
    private var callbackError: (any Error)?
    private var responseTooLarge = false
    private var tooManyRedirects = false
    private var receivedBodyBytes = 0

    init(
        handle: UnsafeMutableRawPointer, request: HTTPRequest, configuration: HTTPClient.Configuration,
        policy: RedirectPolicy, cancellation: CancellationFlag, sink: ResponseSink, timeout: TimeInterval?
    ) {
        self.handle = handle
        self.request = request
        self.configuration = configuration
        self.policy = policy
        self.cancellation = cancellation
        self.sink = sink
        self.timeout = timeout
    }

    private var displayURL: String { URLDisplay.redacted(request.url) }

    func perform() throws -> Outcome {
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { ecr_curl_slist_free_all(headerList) }

        let code: CURLcode = try errorBuffer.withUnsafeMutableBufferPointer { errorBytes in
            var options = EasyOptions(handle)
            options.pointer(CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBytes.baseAddress))
            headerList = try configure(&options)
            if let failure = options.firstFailure {
                throw HTTPError.transport(
                    url: displayURL, code: Int(failure.code.rawValue),
                    detail: "curl refused option \(failure.option.rawValue): "
                        + CurlGlobal.message(for: failure.code.rawValue))
            }
            return ecr_curl_easy_perform(handle)
        }
        let errorText = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }

        guard code == CURLE_OK else { throw failure(for: code, errorText: errorText) }
        if case .awaitingHead = state {
            // The transfer ended without a blank line after the head (or without any head): judge what there is.
            guard headComplete(status: parser.status ?? responseCode(), headers: parser.headers) else {
                throw failure(for: CURLE_WRITE_ERROR, errorText: "")
            }
        }
        switch state {
        case .discardingRedirect(let status, let headers):
            guard let location = redirectURL(headers: headers) else {
                throw HTTPError.transport(
                    url: displayURL, code: Int(CURLE_URL_MALFORMAT.rawValue),
                    detail: "the \(status) redirect's Location could not be resolved")
            }
            return .redirect(status: status, location: location)
        case .delivering, .awaitingHead, .stopped:
            guard let deliveredHead else { throw failure(for: CURLE_WRITE_ERROR, errorText: "") }
            return .final(deliveredHead)
        }
    }

    // MARK: - Configuration

    private func configure(_ options: inout EasyOptions) throws -> UnsafeMutablePointer<curl_slist>? {
        options.string(CURLOPT_URL, request.url)
        // Transfers run on many threads: no signal-based (SIGALRM) timeouts.
        options.long(CURLOPT_NOSIGNAL, 1)
        options.string(CURLOPT_PROTOCOLS_STR, "http,https")
        // Verification is never optional; an extra CA bundle only adds trust (curl keeps the system CA path).
        options.long(CURLOPT_SSL_VERIFYPEER, 1)
        options.long(CURLOPT_SSL_VERIFYHOST, 2)
        if let caBundlePath = configuration.caBundlePath { options.string(CURLOPT_CAINFO, caBundlePath) }

        options.long(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout))
        options.long(CURLOPT_LOW_SPEED_LIMIT, max(0, configuration.lowSpeedLimit))
        options.long(CURLOPT_LOW_SPEED_TIME, Int(max(0, configuration.lowSpeedTime).rounded(.up)))
        if let timeout { options.long(CURLOPT_TIMEOUT_MS, max(1, Self.milliseconds(timeout))) }

        if let socketPath = request.unixSocketPath {
            options.string(CURLOPT_UNIX_SOCKET_PATH, socketPath)
        }
        if request.unixSocketPath != nil || request.bypassesProxy {
            // An empty proxy overrides http_proxy & co.: a local socket or a metadata endpoint is never proxied.
            // Other TCP requests keep curl's own reading of the proxy environment variables.
            options.string(CURLOPT_PROXY, "")
        }
        options.string(CURLOPT_USERAGENT, configuration.userAgent)
        options.long(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1)
        options.long(CURLOPT_TCP_KEEPALIVE, 1)
        options.long(CURLOPT_BUFFERSIZE, 256 << 10)

        let userdata = Unmanaged.passUnretained(self).toOpaque()
        options.dataCallback(CURLOPT_HEADERFUNCTION) { buffer, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            return transfer.receiveHeader(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
        }
        options.pointer(CURLOPT_HEADERDATA, userdata)
        options.dataCallback(CURLOPT_WRITEFUNCTION) { buffer, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            let length = size * count
            return transfer.receiveBody(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
        }
        options.pointer(CURLOPT_WRITEDATA, userdata)
        // The progress callback is how a blocked transfer learns that its task was cancelled.
        options.long(CURLOPT_NOPROGRESS, 0)
        options.xferinfoCallback { userdata, _, _, _, _ in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            return transfer.cancellation.isCancelled ? 1 : 0
        }
        options.pointer(CURLOPT_XFERINFODATA, userdata)

        try configureMethodAndBody(&options, userdata: userdata)
        let headers = try headerList()
        options.list(CURLOPT_HTTPHEADER, headers)
        return headers
    }

    /// Makes the method on the wire exactly `request.method`, with the body (and its length) curl must send.
    private func configureMethodAndBody(_ options: inout EasyOptions, userdata: UnsafeMutableRawPointer) throws {
        let method = request.method
        let upper = method.uppercased()
        if request.body.hasContent || ["POST", "PUT", "PATCH"].contains(upper) {
            // UPLOAD (rather than POST) streams from READFUNCTION for any method, sends Content-Length when the
            // length is known and chunked encoding when not, and adds no form Content-Type of its own.
            let reader = try RequestBodyReader(request.body)
            bodyReader = reader
            options.long(CURLOPT_UPLOAD, 1)
            options.string(CURLOPT_CUSTOMREQUEST, method)
            options.int64(CURLOPT_INFILESIZE_LARGE, reader.length ?? -1)
            options.long(CURLOPT_UPLOAD_BUFFERSIZE, 512 << 10)
            options.dataCallback(CURLOPT_READFUNCTION) { buffer, size, count, userdata in
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
                return transfer.produceBody(UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
            }
            options.pointer(CURLOPT_READDATA, userdata)
            options.seekCallback { userdata, offset, origin in
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
                guard origin == SEEK_SET, let reader = transfer.bodyReader else { return CURL_SEEKFUNC_CANTSEEK }
                return reader.seek(to: Int64(offset)) ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_CANTSEEK
            }
            options.pointer(CURLOPT_SEEKDATA, userdata)
        } else if upper == "HEAD" {
            // NOBODY is what tells curl not to wait for a body after the head.
            options.long(CURLOPT_NOBODY, 1)
            if method != "HEAD" { options.string(CURLOPT_CUSTOMREQUEST, method) }
        } else if method == "GET" {
            options.long(CURLOPT_HTTPGET, 1)
        } else {
            options.string(CURLOPT_CUSTOMREQUEST, method)
        }
    }

    /// Caller headers, minus the framing ones curl computes from the body itself, plus an empty `Expect:` so curl
    /// never pauses an upload waiting for `100 Continue`.
    private func headerList() throws -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        func append(_ line: String) throws {
            guard let extended = ecr_curl_slist_append(list, line) else {
                ecr_curl_slist_free_all(list)
                throw HTTPError.transport(
                    url: displayURL, code: Int(CURLE_OUT_OF_MEMORY.rawValue),
                    detail: "could not build the header list")
            }
            list = extended
        }
        for field in request.headers {
            let name = field.name.lowercased()
            if name == "content-length" || name == "transfer-encoding" { continue }
            // "Name;" is curl's syntax for a header with an empty value ("Name:" would delete it).
            try append(field.value.isEmpty ? "\(field.name);" : "\(field.name): \(field.value)")
        }
        if !request.headers.contains("Expect") { try append("Expect:") }
        return list
    }

    // MARK: - Callbacks (on the transfer thread)

    private func receiveHeader(_ raw: UnsafeRawBufferPointer) -> Bool {
        // Once the head is judged, later header lines are trailers of a chunked body: not part of the head.
        guard case .awaitingHead = state else { return true }
        switch parser.consume(raw) {
        case .none: return true
        case .headComplete(let status, let headers): return headComplete(status: status, headers: headers)
        }
    }

    /// The final head is known: follow it as a redirect, or hand it to the caller.
    private func headComplete(status: Int, headers: HTTPHeaders) -> Bool {
        switch policy.verdict(status: status, headers: headers, request: request) {
        case .follow:
            state = .discardingRedirect(status: status, headers: headers)
            return true
        case .tooManyRedirects:
            tooManyRedirects = true
            state = .stopped
            return false
        case .deliver:
            let head = HTTPResponseHead(status: status, headers: headers, effectiveURL: request.url)
            deliveredHead = head
            state = .delivering
            do {
                try sink.onHead(head)
            } catch {
                callbackError = error
                state = .stopped
                return false
            }
            return true
        }
    }

    private func receiveBody(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if case .awaitingHead = state {
            guard headComplete(status: parser.status ?? responseCode(), headers: parser.headers) else { return false }
        }
        switch state {
        case .discardingRedirect:
            return true
        case .delivering:
            receivedBodyBytes += chunk.count
            if let limit = sink.bufferLimit, receivedBodyBytes > limit {
                responseTooLarge = true
                state = .stopped
                return false
            }
            do {
                try sink.onBody(chunk)
            } catch {
                callbackError = error
                state = .stopped
                return false
            }
            return true
        case .awaitingHead, .stopped:
            return false
        }
    }

    private func produceBody(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard !cancellation.isCancelled, let reader = bodyReader else { return Int(CURL_READFUNC_ABORT) }
        do {
            return try reader.read(into: buffer)
        } catch {
            callbackError = error
            return Int(CURL_READFUNC_ABORT)
        }
    }

    // MARK: - Results

    private func responseCode() -> Int {
        var code = 0
        _ = ecr_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// curl resolves Location against the URL it requested even when it does not follow it; Foundation is the
    /// fallback.
    private func redirectURL(headers: HTTPHeaders) -> String? {
        var pointer: UnsafeMutablePointer<CChar>?
        if ecr_curl_getinfo_string(handle, CURLINFO_REDIRECT_URL, &pointer) == CURLE_OK, let pointer {
            return String(cString: pointer)
        }
        guard let location = headers["Location"] else { return nil }
        return RedirectPolicy.resolve(location, against: request.url)
    }

    private static let tlsCodes: Set<UInt32> = [
        CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_ENGINE_NOTFOUND,
        CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_ENGINE_INITFAILED,
        CURLE_SSL_CACERT_BADFILE, CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
        CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT, CURLE_USE_SSL_FAILED
    ].reduce(into: []) { $0.insert($1.rawValue) }

    /// Turns curl's result into the error the caller should see. What our own callbacks recorded comes first:
    /// curl only knows that a callback said stop.
    private func failure(for code: CURLcode, errorText: String) -> HTTPError {
        let url = displayURL
        if cancellation.isCancelled { return .cancelled(url: url) }
        if let callbackError { return .bodyCallbackFailed(url: url, underlying: callbackError) }
        if responseTooLarge { return .responseTooLarge(url: url, limit: sink.bufferLimit ?? 0) }
        if tooManyRedirects {
            return .transport(
                url: url, code: Int(CURLE_TOO_MANY_REDIRECTS.rawValue),
                detail: "still redirected after following \(policy.maxRedirects) redirects")
        }
        let message = CurlGlobal.message(for: code.rawValue)
        var detail = errorText.isEmpty ? message : errorText
        if let socketPath = request.unixSocketPath { detail = Self.diagnose(unixSocket: socketPath, curlDetail: detail) }
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .couldNotConnect(url: url, detail: detail)
        case CURLE_OPERATION_TIMEDOUT:
            return .timedOut(url: url, detail: detail)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .invalidRequest("\(url): \(detail)")
        default:
            if Self.tlsCodes.contains(code.rawValue) { return .tls(url: url, detail: detail) }
            let combined = errorText.isEmpty || errorText == message ? message : "\(message): \(errorText)"
            return .transport(url: url, code: Int(code.rawValue), detail: combined)
        }
    }

    /// curl reports a failed unix-socket connect as if it were TCP ("localhost port 80"); say what is wrong
    /// with the socket instead, when we can tell.
    static func diagnose(unixSocket path: String, curlDetail: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else {
            return "the unix socket \(path) does not exist (\(curlDetail))"
        }
        if (info.st_mode & S_IFMT) != S_IFSOCK {
            return "\(path) is not a unix socket (\(curlDetail))"
        }
        if access(path, R_OK | W_OK) != 0 {
            return "no permission to use the unix socket \(path) (\(curlDetail))"
        }
        return "\(curlDetail) (unix socket \(path))"
    }

    static func milliseconds(_ interval: TimeInterval) -> Int {
        guard interval > 0 else { return 0 }
        return Int((interval * 1000).rounded(.up))
    }
}
