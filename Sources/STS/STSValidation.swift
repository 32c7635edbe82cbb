/// STS's documented input patterns, checked before a request is made.
package enum STSValidation {
    /// `arn:<partition>:iam::<account>:role/<path/><name>`.
    package static func isRoleARN(_ arn: String) -> Bool {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"].contains(String(parts[1])),
            parts[2] == "iam", parts[3].isEmpty, parts[4].count == 12, parts[4].allSatisfy(\.isNumber),
            parts[5].hasPrefix("role/"), parts[5].count > "role/".count
        else { return false }
        return true
    }

    package static func isSessionName(_ name: String) -> Bool {
        (2...64).contains(name.count)
            && name.unicodeScalars.allSatisfy {
                ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "=,.@-_".unicodeScalars.contains($0)
            }
    }

    package static func validate(roleArn: String, sessionName: String, durationSeconds: Int?) throws(STSError) {
        guard isRoleARN(roleArn) else { throw .invalidRoleARN(roleArn) }
        guard isSessionName(sessionName) else { throw .invalidSessionName(sessionName) }
        if let durationSeconds, !(900...43200).contains(durationSeconds) { throw .invalidDuration(durationSeconds) }
    }
}
