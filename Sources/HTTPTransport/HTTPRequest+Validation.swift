extension HTTPRequest {
    /// RFC 9110 `tchar`: what a method or a header name may contain.
    private static let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { tokenCharacters.contains($0) }
    }

    /// Rejects what curl would send malformed (or would let smuggle a second request): CR/LF in headers, odd methods.
    func validate() throws {
        guard let origin = URLOrigin(url), origin.scheme == "http" || origin.scheme == "https" else {
            throw HTTPError.invalidRequest("\(URLDisplay.redacted(url)) is not an absolute http:// or https:// URL")
        }
        guard Self.isToken(method) else {
            throw HTTPError.invalidRequest("\"\(method)\" is not a valid HTTP method")
        }
        for field in headers {
            guard Self.isToken(field.name) else {
                throw HTTPError.invalidRequest("\"\(field.name)\" is not a valid header name")
            }
            // The value is not echoed: it may be a credential.
            // Checked on bytes: "\r\n" is a single Character, equal to neither "\r" nor "\n".
            guard !field.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw HTTPError.invalidRequest("the value of header \(field.name) contains a line break or NUL")
            }
        }
        if let socket = unixSocketPath, socket.isEmpty || socket.utf8.contains(0) {
            throw HTTPError.invalidRequest("unix socket path \"\(socket)\" is not valid")
        }
        if let timeout, !(timeout > 0) {
            throw HTTPError.invalidRequest("timeout must be positive, got \(timeout)")
        }
        switch body {
        case .empty, .bytes:
            break
        case .file(let path, let offset, let length):
            if offset < 0 || (length ?? 0) < 0 {
                throw HTTPError.invalidRequest("file body \(path): offset and length must not be negative")
            }
        case .stream(let length, _):
            if (length ?? 0) < 0 {
                throw HTTPError.invalidRequest("stream body length must not be negative")
            }
        }
        if method.uppercased() == "HEAD", body.hasContent {
            throw HTTPError.invalidRequest("a HEAD request cannot carry a body")
        }
    }
}

extension HTTPBody {
    /// Whether the body can be sent again from its start (redirects that keep the body need this).
    var isReplayable: Bool {
        switch self {
        case .empty, .bytes, .file: return true
        case .stream: return false
        }
    }

    /// False only for `.empty`: an empty `.bytes` still makes a request that carries a (zero-length) body.
    var hasContent: Bool {
        if case .empty = self { return false }
        return true
    }
}
