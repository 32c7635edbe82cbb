import AWSCore

/// Input STS would reject, caught before any request; service errors arrive as `AWSCore.AWSError`.
package enum STSError: Error, Sendable, CustomStringConvertible {
    case invalidRoleARN(String)
    case invalidSessionName(String)
    case invalidDuration(Int)
    case missingField(action: String, field: String)

    package var description: String {
        switch self {
        case .invalidRoleARN(let arn):
            return
                "\(InputEcho.quoted(arn)) is not a role ARN: expected arn:aws:iam::<12-digit account>:role/<name> (or the aws-cn / aws-us-gov "
                + "partition), 20 to 2048 characters"
        case .invalidSessionName(let name):
            return "role session name \(InputEcho.quoted(name)) is invalid: 2 to 64 characters of letters, digits and =,.@-_"
        case .invalidDuration(let seconds):
            return "role session duration \(seconds) s is invalid: between 900 and 43200 seconds"
        case .missingField(let action, let field):
            return "STS \(action) response has no \(field)"
        }
    }
}
