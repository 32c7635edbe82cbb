extension RetryPolicy {
    /// The retry modes the SDKs know. ecrpush retries the standard way in every mode: `legacy` and `adaptive`
    /// are accepted so that a setting shared with the AWS CLI or an SDK is not an error here.
    package static let retryModes = ["legacy", "standard", "adaptive"]

    /// `AWS_MAX_ATTEMPTS` and `AWS_RETRY_MODE`, checked as the SDKs check them: a value that is set but not
    /// understood is an error, never silently replaced by the default (an empty variable counts as unset).
    package static func fromEnvironment(_ environment: [String: String]) throws(AWSError) -> RetryPolicy {
        if let mode = environment["AWS_RETRY_MODE"], !mode.isEmpty, !retryModes.contains(mode.lowercased()) {
            throw .invalidParameter(name: "AWS_RETRY_MODE", value: mode, expected: "legacy, standard or adaptive")
        }
        guard let text = environment["AWS_MAX_ATTEMPTS"], !text.isEmpty else { return RetryPolicy() }
        // Digits only: Int("+3") would pass, and "3 " (a stray space from a CI variable) is worth saying.
        guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let attempts = Int(text), attempts > 0 else {
            throw .invalidParameter(
                name: "AWS_MAX_ATTEMPTS", value: text,
                expected: "a positive whole number of attempts, such as 3 (1 means no retries)")
        }
        return RetryPolicy(maxAttempts: attempts)
    }
}
