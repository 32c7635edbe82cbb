/// AWS partitions: each has its own DNS suffix and region names.
package enum Partition: String, Sendable, CaseIterable {
    case aws = "aws"
    case awsCN = "aws-cn"
    case awsUSGov = "aws-us-gov"
    case awsISO = "aws-iso"
    case awsISOB = "aws-iso-b"

    package static func of(region: String) -> Partition {
        if region.hasPrefix("cn-") { return .awsCN }
        if region.hasPrefix("us-gov-") { return .awsUSGov }
        if region.hasPrefix("us-iso-") { return .awsISO }
        if region.hasPrefix("us-isob-") { return .awsISOB }
        return .aws
    }

    package var dnsSuffix: String {
        switch self {
        case .aws, .awsUSGov: return "amazonaws.com"
        case .awsCN: return "amazonaws.com.cn"
        case .awsISO: return "c2s.ic.gov"
        case .awsISOB: return "sc2s.sgov.gov"
        }
    }

    /// Region names look like `us-east-1`, `cn-north-1`, `us-gov-west-1`, `us-isob-east-1`, `eu-isoe-west-1`:
    /// 1 to 64 ASCII lowercase letters, digits and hyphens, the last part a number. A region becomes part of a
    /// host name, so nothing else (whitespace, a slash, a Unicode letter) may pass.
    package static func isValidRegionName(_ region: String) -> Bool {
        let bytes = region.utf8
        guard (1...64).contains(bytes.count),
            bytes.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d })
        else { return false }
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, !parts.contains(where: \.isEmpty), let last = parts.last else { return false }
        return last.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
