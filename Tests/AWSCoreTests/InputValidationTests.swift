import AWSCore
import Testing

/// The settings the SDKs check before any request, and how a bad value is shown.
@Suite struct InputValidationTests {
    @Test func retrySettingsAreCheckedNotIgnored() throws {
        #expect(try RetryPolicy.fromEnvironment([:]).maxAttempts == 3)
        #expect(try RetryPolicy.fromEnvironment(["AWS_MAX_ATTEMPTS": ""]).maxAttempts == 3, "an empty variable is unset, as in the SDKs")
        #expect(try RetryPolicy.fromEnvironment(["AWS_MAX_ATTEMPTS": "1"]).maxAttempts == 1)
        #expect(try RetryPolicy.fromEnvironment(["AWS_MAX_ATTEMPTS": "10", "AWS_RETRY_MODE": "adaptive"]).maxAttempts == 10)
        for mode in ["legacy", "standard", "Standard"] {
            #expect(throws: Never.self, "\(mode)") { try RetryPolicy.fromEnvironment(["AWS_RETRY_MODE": mode]) }
        }
        for attempts in ["abc", "0", "-1", "+3", "3 ", "1.5", "99999999999999999999999"] {
            #expect(throws: AWSError.self, "\(attempts)") { try RetryPolicy.fromEnvironment(["AWS_MAX_ATTEMPTS": attempts]) }
        }
        do {
            _ = try RetryPolicy.fromEnvironment(["AWS_MAX_ATTEMPTS": "abc"])
            Issue.record("AWS_MAX_ATTEMPTS=abc was accepted")
        } catch {
            #expect(error.isInvalidInput)
            #expect(error.description.contains("AWS_MAX_ATTEMPTS 'abc'") && error.description.contains("positive whole number"), "\(error)")
        }
        do {
            _ = try RetryPolicy.fromEnvironment(["AWS_RETRY_MODE": "fast"])
            Issue.record("AWS_RETRY_MODE=fast was accepted")
        } catch {
            #expect(error.description.contains("AWS_RETRY_MODE 'fast'") && error.description.contains("legacy, standard or adaptive"), "\(error)")
        }
    }

    @Test(arguments: ["us-east-1", "cn-north-1", "us-gov-west-1", "us-isob-east-1", "eu-isoe-west-1", "ap-southeast-5"])
    func regionNamesOfEveryPartitionAreAccepted(region: String) {
        #expect(Partition.isValidRegionName(region))
    }

    @Test(arguments: [
        "", "US-EAST-1", "us east-1", "us-east-1 ", "us-east-1/x", "us_east_1", "useast", "us--east-1", "-us-east-1",
        "us-east-x", "us-éast-1", "us-east-1\n", String(repeating: "a-", count: 40) + "1"
    ])
    func malformedRegionNamesAreRefused(region: String) {
        #expect(!Partition.isValidRegionName(region))
    }

    @Test func shortValuesAreQuotedAndLongOnesSummarised() {
        #expect(InputEcho.quoted("us-east-1") == "'us-east-1'")
        #expect(InputEcho.quoted("a\u{1B}[2Jb") == "'a\\u{1B}[2Jb'", "an escape sequence is shown, not run by the terminal")
        let long = "arn:aws:iam::123456789012:role/" + String(repeating: "x", count: 119_969)
        #expect(InputEcho.quoted(long) == "(120000 characters, starting \"arn:aws:iam::1234…\")")
        let error = AWSError.invalidParameter(name: "AWS_IAM_ROLE_ARN", value: long, expected: "a role ARN")
        #expect(error.description.count < 200, "\(error.description.count) characters")
        #expect(error.description.contains("AWS_IAM_ROLE_ARN (120000 characters"))
        let limit = String(repeating: "r", count: InputEcho.maximumQuotedLength)
        #expect(InputEcho.quoted(limit) == "'\(limit)'", "a value at the limit is still shown whole")
    }
}
