import AWSCore
import Foundation

/// What an ECR registry host name says: whose registry it is, where, and through which kind of endpoint.
///
/// Accepted forms (anything else, including look-alikes such as `…amazonaws.com.evil.example`, is refused):
/// - `<account>.dkr.ecr.<region>.amazonaws.com` (and `.amazonaws.com.cn`, `.c2s.ic.gov`, `.sc2s.sgov.gov`,
///   each only with the regions of its partition)
/// - `<account>.dkr.ecr-fips.<region>.<suffix>` (FIPS)
/// - `<account>.dkr-ecr[-fips].<region>.on.aws`, `…on.amazonwebservices.com.cn` (dual-stack)
/// - `public.ecr.aws` (ECR Public)
package struct RegistryHost: Sendable, Equatable {
    /// The host name, lowercased, without scheme, port or path.
    package var host: String
    /// The registry id; nil for ECR Public.
    package var accountId: String?
    package var region: String
    package var partition: Partition
    package var fips: Bool
    package var dualStack: Bool
    package var isPublic: Bool

    package init(
        host: String, accountId: String?, region: String, partition: Partition, fips: Bool = false,
        dualStack: Bool = false, isPublic: Bool = false
    ) {
        self.host = host
        self.accountId = accountId
        self.region = region
        self.partition = partition
        self.fips = fips
        self.dualStack = dualStack
        self.isPublic = isPublic
    }

    /// Parses a registry host, server URL or image reference prefix (`https://HOST:443/v2/`); nil when it is not
    /// an ECR registry.
    package static func parse(_ input: String) -> RegistryHost? {
        let host = hostName(of: input)
        if host == "public.ecr.aws" {
            return RegistryHost(host: host, accountId: nil, region: "us-east-1", partition: .aws, isPublic: true)
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard labels.count >= 5, isAccountId(labels[0]) else { return nil }
        let account = labels[0]

        // <account>.dkr.ecr[-fips].<region>.<partition suffix>
        if labels[1] == "dkr", labels[2] == "ecr" || labels[2] == "ecr-fips" {
            let region = labels[3]
            let suffix = labels[4...].joined(separator: ".")
            guard Partition.isValidRegionName(region) else { return nil }
            let partition = Partition.of(region: region)
            guard partition.dnsSuffix == suffix else { return nil }
            return RegistryHost(
                host: host, accountId: account, region: region, partition: partition,
                fips: labels[2] == "ecr-fips")
        }
        // <account>.dkr-ecr[-fips].<region>.on.aws (dual-stack, IPv4 and IPv6)
        if labels[1] == "dkr-ecr" || labels[1] == "dkr-ecr-fips" {
            let region = labels[2]
            let suffix = labels[3...].joined(separator: ".")
            guard Partition.isValidRegionName(region) else { return nil }
            let partition = Partition.of(region: region)
            let expected: String
            switch partition {
            case .aws, .awsUSGov: expected = "on.aws"
            case .awsCN: expected = "on.amazonwebservices.com.cn"
            case .awsISO, .awsISOB: return nil
            }
            guard suffix == expected else { return nil }
            return RegistryHost(
                host: host, accountId: account, region: region, partition: partition,
                fips: labels[1] == "dkr-ecr-fips", dualStack: true)
        }
        return nil
    }

    /// The host part of a server URL: no scheme, user info, path, port or trailing dot; lowercased.
    package static func hostName(of input: String) -> String {
        var text = Substring(input.trimmingCharacters(in: .whitespacesAndNewlines))
        if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
        if let slash = text.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { text = text[..<slash] }
        if let at = text.lastIndex(of: "@") { text = text[text.index(after: at)...] }
        if let colon = text.lastIndex(of: ":"), text[text.index(after: colon)...].allSatisfy(\.isNumber) {
            text = text[..<colon]
        }
        while text.hasSuffix(".") { text = text.dropLast() }
        return text.lowercased()
    }

    /// The host with its port, as docker names a registry (`127.0.0.1:5000`, `host`), lowercased.
    package static func hostAndPort(of input: String) -> String {
        var text = Substring(input.trimmingCharacters(in: .whitespacesAndNewlines))
        if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
        if let slash = text.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { text = text[..<slash] }
        if let at = text.lastIndex(of: "@") { text = text[text.index(after: at)...] }
        return text.lowercased()
    }

    /// Environment additions that make AWS calls for this registry go where the host says: a FIPS registry host
    /// must be served by the FIPS API endpoints (`AWS_USE_FIPS_ENDPOINT=true`).
    package var environmentOverrides: [String: String] {
        fips ? ["AWS_USE_FIPS_ENDPOINT": "true"] : [:]
    }

    static func isAccountId(_ text: String) -> Bool {
        text.utf8.count == 12 && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
