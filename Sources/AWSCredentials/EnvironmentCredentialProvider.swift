import AWSCore
import Foundation
import SigV4

/// Keys given in environment variables: the SDKs' `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
/// `AWS_SESSION_TOKEN` (+ `AWS_CREDENTIAL_EXPIRATION`), or the IAM-user names of the containerise.py recipe
/// (`AWS_IAM_USER_ACCESS_KEY_ID` / `AWS_IAM_USER_SECRET_ACCESS_KEY`).
package struct EnvironmentCredentialProvider: CredentialProvider {
    package struct Names: Sendable {
        package let accessKeyId: String
        package let secretAccessKey: String
        package let sessionToken: String?
        package let expiration: String?

        package static let standard = Names(
            accessKeyId: "AWS_ACCESS_KEY_ID", secretAccessKey: "AWS_SECRET_ACCESS_KEY",
            sessionToken: "AWS_SESSION_TOKEN", expiration: "AWS_CREDENTIAL_EXPIRATION")
        /// containerise.py's names for the IAM user whose only right is to assume `AWS_IAM_ROLE_ARN`.
        package static let containeriseUser = Names(
            accessKeyId: "AWS_IAM_USER_ACCESS_KEY_ID",
            secretAccessKey: "AWS_IAM_USER_SECRET_ACCESS_KEY",
            sessionToken: nil, expiration: nil)
    }

    package let fixed: Credentials
    package let source: String

    /// nil when neither key variable is set; throws when only one of them is.
    package init?(environment: [String: String], names: Names = .standard) throws(AWSError) {
        guard let credentials = try Self.read(environment: environment, names: names) else { return nil }
        fixed = credentials
        source = "environment variables (\(names.accessKeyId))"
    }

    package func credentials() async throws -> Credentials { fixed }

    static func read(environment: [String: String], names: Names) throws(AWSError) -> Credentials? {
        let env = EnvironmentReader(environment)
        let keyId = env[names.accessKeyId], secret = env[names.secretAccessKey]
        switch (keyId, secret) {
        case (nil, nil):
            return nil
        case (.some, nil):
            throw AWSError.credentialProviderFailed(
                source: "environment variables",
                detail: "\(names.accessKeyId) is set but \(names.secretAccessKey) is not: set both, or unset both to use another credential source")
        case (nil, .some):
            throw AWSError.credentialProviderFailed(
                source: "environment variables",
                detail: "\(names.secretAccessKey) is set but \(names.accessKeyId) is not: set both, or unset both to use another credential source")
        case (.some(let keyId), .some(let secret)):
            var expiration: Date?
            if let name = names.expiration, let text = env[name] {
                guard let date = Timestamps.parseISO8601(text) else {
                    throw AWSError.invalidParameter(name: name, value: text, expected: "an ISO 8601 timestamp such as 2026-01-02T03:04:05Z")
                }
                expiration = date
            }
            return Credentials(
                accessKeyId: keyId, secretAccessKey: secret,
                sessionToken: names.sessionToken.flatMap { env[$0] }, expiration: expiration)
        }
    }
}
