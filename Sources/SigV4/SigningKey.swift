import Foundation
import Hashing

/// The derived SigV4 key for one day, region and service. It is a pure function of its inputs and
/// stays valid for the whole UTC day, so callers may compute it once and reuse it.
package struct SigningKey: Sendable, Equatable, CustomStringConvertible {
    package let dateStamp: String
    package let region: String
    package let service: String
    /// HMAC chain `AWS4<secret>` → date → region → service → `aws4_request`. Secret-equivalent for the scope.
    package let bytes: [UInt8]

    package init(secretAccessKey: String, dateStamp: String, region: String, service: String) {
        self.dateStamp = dateStamp
        self.region = region
        self.service = service
        let dateKey = HMACSHA256.authenticationCode(key: Array("AWS4\(secretAccessKey)".utf8), data: dateStamp)
        let regionKey = HMACSHA256.authenticationCode(key: dateKey, data: region)
        let serviceKey = HMACSHA256.authenticationCode(key: regionKey, data: service)
        bytes = HMACSHA256.authenticationCode(key: serviceKey, data: SigV4.terminator)
    }

    package init(secretAccessKey: String, date: Date, region: String, service: String) {
        self.init(secretAccessKey: secretAccessKey, dateStamp: SigV4.dateStamp(date), region: region, service: service)
    }

    /// `20150830/us-east-1/iam/aws4_request`.
    package var scope: String { SigV4.credentialScope(dateStamp: dateStamp, region: region, service: service) }

    /// Hex signature of `stringToSign` under this key.
    package func sign(_ stringToSign: String) -> String {
        Hex.encode(HMACSHA256.authenticationCode(key: bytes, data: stringToSign))
    }

    package var description: String { "SigningKey(\(scope), <redacted>)" }
}
