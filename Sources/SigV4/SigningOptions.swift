/// Variations of SigV4 that differ between services.
package struct SigningOptions: Sendable, Equatable {
    /// Remove `.`/`..` segments and duplicate slashes before encoding the path. False for S3.
    package var normalizePath: Bool = true
    /// Add and sign an `x-amz-content-sha256` header carrying the payload hash (header signing only).
    package var addContentSHA256Header: Bool = false
    /// Send the session token but leave it out of the signature (some services, e.g. IoT, want this).
    package var omitSessionTokenFromSignature: Bool = false
    /// Percent-encode the (already encoded) wire path once more, as every service except S3 expects.
    /// When false the wire path is used as sent, only escaping bytes that are not legal in a path.
    package var doubleURIEncode: Bool = true

    package init(
        normalizePath: Bool = true,
        addContentSHA256Header: Bool = false,
        omitSessionTokenFromSignature: Bool = false,
        doubleURIEncode: Bool = true
    ) {
        self.normalizePath = normalizePath
        self.addContentSHA256Header = addContentSHA256Header
        self.omitSessionTokenFromSignature = omitSessionTokenFromSignature
        self.doubleURIEncode = doubleURIEncode
    }

    /// S3's rules: the path is neither normalised nor encoded twice, and the payload hash is sent.
    package static let s3 = SigningOptions(normalizePath: false, addContentSHA256Header: true, doubleURIEncode: false)
}
