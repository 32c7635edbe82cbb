import Foundation
import Hashing

/// Signs requests with AWS Signature Version 4. A value type holding only credentials and scope, so
/// it is cheap to create per request and safe to share.
package struct SigV4Signer: Sendable {
    package let credentials: Credentials
    package let region: String
    package let service: String
    package let options: SigningOptions

    package init(credentials: Credentials, region: String, service: String, options: SigningOptions = SigningOptions()) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.options = options
    }

    /// The derived key for `date`'s UTC day; pass it back to the signing methods to skip the HMAC chain.
    package func signingKey(for date: Date) -> SigningKey {
        SigningKey(secretAccessKey: credentials.secretAccessKey, date: date, region: region, service: service)
    }

    /// Headers the signer never signs: ones it sets itself, and hop-by-hop or client-identifying
    /// headers that proxies and HTTP libraries may add, drop or rewrite after signing.
    static let unsignableHeaders: Set<String> = [
        "authorization", "x-amz-date", "user-agent", "x-amzn-trace-id", "expect",
        "connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade"
    ]

    /// The request's headers that take part in the signature, before the signer adds its own.
    func signableHeaders(_ headers: [SigningHeader], dropping extra: Set<String>) -> [SigningHeader] {
        headers.filter { header in
            let name = Canonical.headerName(header.name)
            return !Self.unsignableHeaders.contains(name) && !extra.contains(name)
        }
    }

    /// The key to use: the caller's cached one when it matches this day, region and service.
    func key(_ cached: SigningKey?, dateStamp: String) -> SigningKey {
        if let cached, cached.dateStamp == dateStamp, cached.region == region, cached.service == service {
            return cached
        }
        return SigningKey(secretAccessKey: credentials.secretAccessKey, dateStamp: dateStamp, region: region, service: service)
    }

    func canonicalURI(_ request: SigningRequest) -> String {
        Canonical.uri(path: request.path, normalize: options.normalizePath, doubleEncode: options.doubleURIEncode)
    }

    func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        [SigV4.algorithm, amzDate, scope, SHA256.hash(canonicalRequest).hex].joined(separator: "\n")
    }

    /// Whether the session token goes into the signature (it is always sent when present).
    var signsSessionToken: Bool {
        credentials.sessionToken != nil && !options.omitSessionTokenFromSignature
    }
}
