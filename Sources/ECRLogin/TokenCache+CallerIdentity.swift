import Foundation
import Hashing
import SigV4

/// Who a set of temporary credentials stands for, remembered for the credentials' lifetime: a warm `get` with
/// session keys (from the environment, an instance or container role) then names its principal without an STS
/// GetCallerIdentity call. The file is named by an HMAC of the key id and session token under the secret, so
/// nothing about the credentials shows, and other credentials (or a wrong secret) never find it.
extension TokenCache {
    struct CallerIdentity: Codable {
        var arn: String
        var expiresAt: Date
    }

    /// How long an identity is trusted when the credentials do not say when they expire.
    static let callerIdentityLifetime: TimeInterval = 15 * 60

    func identityPath(for credentials: Credentials) -> String {
        let material = credentials.accessKeyId + "\n" + (credentials.sessionToken ?? "")
        let mac = HMACSHA256.authenticationCode(key: Array(credentials.secretAccessKey.utf8), data: material)
        return directory + "/" + Hex.encode(mac) + ".identity"
    }

    /// The caller ARN remembered for these credentials, while they are valid.
    func callerIdentity(for credentials: Credentials, now: Date = Date()) -> String? {
        guard let data = FileManager.default.contents(atPath: identityPath(for: credentials)) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard let identity = try? decoder.decode(CallerIdentity.self, from: data), identity.expiresAt > now else { return nil }
        return identity.arn
    }

    /// Remembers the caller ARN until the credentials expire (at most `callerIdentityLifetime` when they don't say).
    func remember(callerIdentity arn: String, for credentials: Credentials, now: Date = Date()) {
        let expiresAt = credentials.expiration ?? now.addingTimeInterval(Self.callerIdentityLifetime)
        guard expiresAt > now, (try? prepareDirectory()) != nil else { return }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        guard let data = try? encoder.encode(CallerIdentity(arn: arn, expiresAt: expiresAt)) else { return }
        try? PrivateFile.writeAtomically(data, to: identityPath(for: credentials), temporaryPrefix: ".tmp-", permissions: .keepExisting)
    }
}
