import AWSCore
import Foundation
import HTTPTransport
import SigV4

/// Reads a (possibly fake) environment the way the SDKs do: an empty variable counts as unset.
struct EnvironmentReader: Sendable {
    let values: [String: String]

    init(_ values: [String: String]) { self.values = values }

    subscript(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    func isTrue(_ name: String) -> Bool { self[name]?.lowercased() == "true" }
}

enum PathExpansion {
    /// `~/x` → `<home>/x`, as the SDKs do for file paths found in variables and profiles.
    static func expand(_ path: String, home: String) -> String {
        if path == "~" { return home }
        guard path.hasPrefix("~/") else { return path }
        return (home.hasSuffix("/") ? home : home + "/") + path.dropFirst(2)
    }
}

enum SessionNames {
    /// What ecrpush calls a role session nobody named.
    static func generated(now: Date = Date()) -> String { "ecrpush-\(Int(now.timeIntervalSince1970))" }
}

enum MetadataHTTP {
    /// A client for the link-local metadata endpoints (IMDS, ECS): short connect timeout, no redirects,
    /// the caller's CA bundle and user agent. Kept apart from the AWS client so its short timeouts stay local.
    static func client(like base: HTTPClient, connectTimeout: TimeInterval) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectTimeout = connectTimeout
        configuration.followRedirects = false
        configuration.maxBufferedResponseBytes = 1 << 20
        configuration.caBundlePath = base.configuration.caBundlePath
        configuration.userAgent = base.configuration.userAgent
        configuration.lowSpeedTime = 5
        return HTTPClient(configuration: configuration)
    }

    /// Connection-level failures mean "nothing there", worth one more try but not an error of the service.
    static func isUnreachable(_ error: HTTPError) -> Bool {
        switch error {
        case .couldNotConnect, .timedOut: return true
        default: return false
        }
    }
}

/// The STS context for a call made without credentials (AssumeRoleWithWebIdentity): anything that tries to
/// sign with it is a bug, reported as such.
struct NoCredentialProvider: CredentialProvider {
    let source = "no credentials (anonymous request)"

    func credentials() async throws -> Credentials {
        // Not invalidConfiguration: nothing the user set is wrong, and that case is a usage error.
        throw AWSError.credentialProviderFailed(source: source, detail: "internal error: an anonymous STS request asked for credentials")
    }
}
