import Foundation

/// A docker login for one registry, decoded from GetAuthorizationToken.
package struct RegistryAuthorization: Sendable, Equatable {
    package var username: String
    package var password: String
    /// As ECR gives it: `https://<account>.dkr.ecr.<region>.amazonaws.com`.
    package var proxyEndpoint: String
    package var expiresAt: Date?

    package init(username: String, password: String, proxyEndpoint: String, expiresAt: Date?) {
        self.username = username
        self.password = password
        self.proxyEndpoint = proxyEndpoint
        self.expiresAt = expiresAt
    }

    /// The registry host (and port), the proxy endpoint without its scheme or trailing slash.
    package var registry: String {
        var host = Substring(proxyEndpoint)
        if let scheme = host.range(of: "://") { host = host[scheme.upperBound...] }
        while host.hasSuffix("/") { host = host.dropLast() }
        return String(host)
    }

    /// Decodes ECR's base64 `user:password` token.
    package static func decode(token: String, proxyEndpoint: String, expiresAt: Date?) throws(ECRError) -> RegistryAuthorization {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8) else {
            throw .malformedAuthorizationToken(detail: "not base64 text")
        }
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
            throw .malformedAuthorizationToken(detail: "no user:password separator")
        }
        let password = String(text[text.index(after: colon)...])
        guard !password.isEmpty else { throw .malformedAuthorizationToken(detail: "empty password") }
        return RegistryAuthorization(
            username: String(text[..<colon]), password: password,
            proxyEndpoint: proxyEndpoint, expiresAt: expiresAt)
    }
}

package struct Repository: Sendable, Equatable, Decodable {
    package var repositoryName: String
    package var repositoryArn: String?
    package var registryId: String?
    package var repositoryUri: String?
    package var imageTagMutability: String?
    /// `IMMUTABLE_WITH_EXCLUSION` and `MUTABLE_WITH_EXCLUSION` repositories: the tags that are the exception.
    package var imageTagMutabilityExclusionFilters: [TagMutabilityExclusionFilter]?
    package var imageScanningConfiguration: ScanningConfiguration?

    package struct ScanningConfiguration: Sendable, Equatable, Decodable {
        package var scanOnPush: Bool?
    }

    /// The registry host of `repositoryUri` (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`).
    package var registryHost: String? {
        guard let uri = repositoryUri, let slash = uri.firstIndex(of: "/") else { return nil }
        return String(uri[..<slash])
    }
}

package enum ImageTagMutability: String, Sendable, CaseIterable {
    case mutable = "MUTABLE"
    case immutable = "IMMUTABLE"
}
