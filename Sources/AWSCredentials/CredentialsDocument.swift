import AWSCore
import Foundation
import SigV4

/// The JSON credential documents of the ECS endpoint, IMDS and `credential_process`, which differ only in the
/// session token's key (`Token` / `SessionToken`). Errors never quote the document: it holds secrets.
enum CredentialsDocument {
    static func parse(_ bytes: [UInt8], tokenKey: String, source: String) throws -> (Credentials, [String: Any]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw AWSError.credentialProviderFailed(
                source: source, detail: "the answer is not a JSON object (\(bytes.count) bytes; not shown, it may hold secrets)")
        }
        func string(_ key: String) -> String? {
            guard let value = object[key] as? String, !value.isEmpty else { return nil }
            return value
        }
        guard let accessKeyId = string("AccessKeyId") else {
            throw AWSError.credentialProviderFailed(source: source, detail: "the JSON answer has no AccessKeyId")
        }
        guard let secretAccessKey = string("SecretAccessKey") else {
            throw AWSError.credentialProviderFailed(source: source, detail: "the JSON answer has no SecretAccessKey")
        }
        var expiration: Date?
        if let text = string("Expiration") {
            guard let date = Timestamps.parseISO8601(text) else {
                throw AWSError.credentialProviderFailed(
                    source: source, detail: "Expiration '\(text)' is not an ISO 8601 timestamp (e.g. 2026-01-02T03:04:05Z)")
            }
            expiration = date
        }
        let credentials = Credentials(
            accessKeyId: accessKeyId, secretAccessKey: secretAccessKey,
            sessionToken: string(tokenKey), expiration: expiration)
        return (credentials, object)
    }
}
