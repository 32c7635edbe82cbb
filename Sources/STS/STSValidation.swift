/// STS's documented input patterns, checked before a request is made.
package enum STSValidation {
    /// What a role ARN looks like, for messages.
    package static let roleARNExpectation = "a role ARN such as arn:aws:iam::123456789012:role/name (20 to 2048 characters)"

    /// STS's limits on `RoleArn`.
    package static let roleARNLength = 20...2048

    /// `arn:<partition>:iam::<account>:role/<path/><name>`, 20 to 2048 characters as STS requires; the path of
    /// printable ASCII, the name of IAM's role-name characters (letters, digits and +=,.@_-, at most 64).
    package static func isRoleARN(_ arn: String) -> Bool {
        guard roleARNLength.contains(arn.utf8.count) else { return false }
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn",
            ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f"].contains(String(parts[1])),
            parts[2] == "iam", parts[3].isEmpty, parts[4].utf8.count == 12, parts[4].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            parts[5].hasPrefix("role/")
        else { return false }
        let pathAndName = parts[5].dropFirst("role/".count)
        let name = pathAndName.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        return (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { isASCIIAlphanumeric($0) || "+=,.@_-".utf8.contains($0) }
            && pathAndName.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7e }
    }

    private static func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
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
