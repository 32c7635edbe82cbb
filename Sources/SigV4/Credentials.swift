import Foundation

/// AWS credentials used to sign requests.
///
/// The secret key and session token are deliberately kept out of `description`, `debugDescription`
/// and `dump()` output so credentials can be logged or interpolated without leaking.
package struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    package let accessKeyId: String
    package let secretAccessKey: String
    package let sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    package let expiration: Date?

    package init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    package var description: String {
        var text = "Credentials(accessKeyId: \(accessKeyId), secretAccessKey: <redacted>"
        if sessionToken != nil { text += ", sessionToken: <redacted>" }
        if let expiration { text += ", expiration: \(SigV4.amzDate(expiration))" }
        return text + ")"
    }

    package var debugDescription: String { description }

    /// Keeps `dump()` and reflection-based printing from exposing the secret or token.
    package var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyId": accessKeyId,
                "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
                "expiration": expiration as Any
            ], displayStyle: .struct)
    }
}
