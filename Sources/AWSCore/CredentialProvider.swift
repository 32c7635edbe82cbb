import SigV4

/// A source of AWS credentials. Providers that return temporary credentials are expected to be wrapped in
/// `RefreshingCredentialProvider` so long commands get fresh ones before they expire.
package protocol CredentialProvider: Sendable {
    func credentials() async throws -> Credentials
    /// Where the credentials come from, for `whoami` and error messages ("environment variables", "profile dev").
    var source: String { get }
    /// Whether `credentials()` would answer now, without a request (fetched before and still fresh).
    func holdsFreshCredentials() async -> Bool
}

extension CredentialProvider {
    package func holdsFreshCredentials() async -> Bool { false }
}

package struct StaticCredentialProvider: CredentialProvider {
    package let fixed: Credentials
    package let source: String

    package init(_ credentials: Credentials, source: String) {
        self.fixed = credentials
        self.source = source
    }

    package func credentials() async throws -> Credentials { fixed }
}
