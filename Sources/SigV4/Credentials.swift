import Foundation

/// AWS credentials used to sign requests.
///
/// The secret key and session token are deliberately kept out of `description`, `debugDescription`
/// and `dump()` output so credentials can be logged or interpolated without leaking.
public struct Credentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let accessKeyId: String
    public let secretAccessKey: String
    public let sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public let expiration: Date?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String {
        var text = "Credentials(accessKeyId: \(accessKeyId), secretAccessKey: <redacted>"
        if sessionToken != nil { text += ", sessionToken: <redacted>" }
        if let expiration { text += ", expiration: \(SigV4.amzDate(expiration))" }
        return text + ")"
    }

    public var debugDescription: String { description }

    /// Keeps `dump()` and reflection-based printing from exposing the secret or token.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "accessKeyId": accessKeyId,
            "secretAccessKey": "<redacted>",
            "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
            "expiration": expiration as Any,
        ], displayStyle: .struct)
    }
}
