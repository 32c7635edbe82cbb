/// The outcome of signing with the `Authorization` header.
package struct HeaderSignature: Sendable, CustomStringConvertible {
    package let canonicalRequest: String
    package let stringToSign: String
    /// Hex HMAC-SHA256.
    package let signature: String
    /// Headers to add to the request, in the order AWS's own signer adds them:
    /// `X-Amz-Security-Token` (when there is a token, signed or not), `X-Amz-Date`,
    /// `x-amz-content-sha256` (when asked for) and `Authorization`.
    package let addedHeaders: [SigningHeader]

    package init(canonicalRequest: String, stringToSign: String, signature: String, addedHeaders: [SigningHeader]) {
        self.canonicalRequest = canonicalRequest
        self.stringToSign = stringToSign
        self.signature = signature
        self.addedHeaders = addedHeaders
    }

    /// `headers` with any existing header of the same name as an added one removed, then the added ones
    /// appended: what actually goes on the wire.
    package func applied(to headers: [SigningHeader]) -> [SigningHeader] {
        let replaced = Set(addedHeaders.map { $0.name.lowercased() })
        return headers.filter { !replaced.contains($0.name.lowercased()) } + addedHeaders
    }

    /// Names only: the Authorization header and session token are secrets.
    package var description: String {
        "HeaderSignature(addedHeaders: \(addedHeaders.map(\.name).joined(separator: ", ")))"
    }
}

/// The outcome of presigning: the signature travels in the query string.
package struct QuerySignature: Sendable, CustomStringConvertible {
    package let canonicalRequest: String
    package let stringToSign: String
    package let signature: String
    /// The full query to send (without `?`): the original parameters as they were, then
    /// `X-Amz-Algorithm`, `-Credential`, `-Date`, `-SignedHeaders`, `-Expires`, `-Security-Token`
    /// (when there is a token) and `-Signature`.
    package let query: String

    package init(canonicalRequest: String, stringToSign: String, signature: String, query: String) {
        self.canonicalRequest = canonicalRequest
        self.stringToSign = stringToSign
        self.signature = signature
        self.query = query
    }

    /// A presigned query is a bearer credential, so it is never shown.
    package var description: String { "QuerySignature(<redacted>)" }
}
