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

    /// Region names look like `us-east-1`, `cn-north-1`, `us-gov-west-1`, `us-isob-east-1`.
    package static func isValidRegionName(_ region: String) -> Bool {
        let parts = region.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let last = parts.last, Int(last) != nil else { return false }
        return region.allSatisfy { ($0.isLetter && $0.isLowercase) || $0.isNumber || $0 == "-" }
    }
}
