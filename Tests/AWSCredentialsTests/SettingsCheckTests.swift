import AWSCore
import AWSCredentials
import Foundation
import STS
import Testing

/// `AWSResolver.checkSettings`: what the SDKs refuse before any request is refused here too, and only that.
@Suite struct SettingsCheckTests {
    static let keys = ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"]
    static let user = ["AWS_IAM_USER_ACCESS_KEY_ID": "AKIDUSER", "AWS_IAM_USER_SECRET_ACCESS_KEY": "y"]
    static let longARN = "arn:aws:iam::123456789012:role/" + String(repeating: "a", count: 120_000 - 31)

    /// The error checkSettings throws, or nil when it accepts the input.
    private func refusal(_ input: AWSResolutionInput) -> AWSError? {
        do {
            try AWSResolver.checkSettings(input)
            return nil
        } catch {
            return error
        }
    }

    @Test func roleARNsAreCheckedWhereverTheyComeFrom() throws {
        let home = try FakeHome(
            config: "[profile long]\nrole_arn = \(Self.longARN)\nsource_profile = base\n[profile base]\n",
            credentials: "[base]\naws_access_key_id = A\naws_secret_access_key = B\n")
        let containerise = try #require(refusal(home.input(Self.user.merging(["AWS_IAM_ROLE_ARN": Self.longARN]) { $1 })))
        #expect(containerise.isInvalidInput)
        #expect(containerise.description.contains("AWS_IAM_ROLE_ARN (120000 characters, starting \"arn:aws:iam::1234…\")"), "\(containerise)")
        #expect(!containerise.description.contains(String(repeating: "a", count: 200)), "the value is never echoed whole")

        let token = try home.file("token", "jwt")
        let webIdentity = try #require(
            refusal(home.input(["AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": "arn:aws:iam::123456789012:user/x"])))
        #expect(webIdentity.description.contains("AWS_ROLE_ARN 'arn:aws:iam::123456789012:user/x'"), "\(webIdentity)")

        let profile = try #require(refusal(home.input(profile: "long")))
        #expect(profile.description.contains("role_arn of profile 'long'") && profile.description.contains("120000 characters"), "\(profile)")

        let flag = try #require(refusal(home.input(Self.keys, roleArn: "arn:aws:iam::123456789012:role/a b")))
        #expect(flag.description.contains("--role-arn"), "\(flag)")
    }

    /// Only the source that will be used is checked, as the SDKs do: AWS_IAM_ROLE_ARN means nothing when the
    /// standard keys win.
    @Test func unusedSettingsAreNotChecked() throws {
        let home = try FakeHome()
        #expect(refusal(home.input(Self.keys.merging(["AWS_IAM_ROLE_ARN": Self.longARN]) { $1 })) == nil)
        #expect(refusal(home.input(Self.keys.merging(["AWS_DEFAULT_REGION": "NOT A REGION"]) { $1 })) == nil, "AWS_REGION wins")
    }

    @Test func retryRegionAndDurationSettings() throws {
        let home = try FakeHome(
            config: "[profile short]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = base\nduration_seconds = 60\n"
                + "[profile base]\naws_access_key_id = A\naws_secret_access_key = B\n[profile upper]\nregion = EU-WEST-1\n")
        #expect(refusal(home.input(Self.keys.merging(["AWS_MAX_ATTEMPTS": "abc"]) { $1 }))?.description.contains("AWS_MAX_ATTEMPTS") == true)
        #expect(refusal(home.input(Self.keys.merging(["AWS_RETRY_MODE": "turbo"]) { $1 }))?.description.contains("AWS_RETRY_MODE") == true)
        #expect(refusal(home.input(Self.keys.merging(["AWS_REGION": "us-east-1/evil"]) { $1 }))?.description.contains("AWS_REGION") == true)
        #expect(refusal(home.input(Self.keys, region: "us east 1"))?.description.contains("--region") == true)
        let upper = try #require(refusal(home.input(Self.keys.merging(["AWS_REGION": ""]) { $1 }, profile: "upper")))
        #expect(upper.description.contains("EU-WEST-1"), "\(upper)")
        let duration = try #require(refusal(home.input(profile: "short")))
        #expect(duration.description.contains("duration_seconds") && duration.description.contains("900 and 43200"), "\(duration)")
        var flags = home.input(Self.keys, roleArn: "arn:aws:iam::123456789012:role/r")
        flags.durationSeconds = 43201
        #expect(refusal(flags)?.description.contains("--duration") == true)
    }

    /// Missing credentials or region are not bad input: they are said by `resolve` (exit 1), after instance
    /// metadata had its chance, and must not hide a malformed value found later either.
    @Test func missingIsNotMalformed() throws {
        let home = try FakeHome()
        #expect(refusal(home.input(["AWS_REGION": ""])) == nil)
        let region = try #require(refusal(home.input(["AWS_REGION": "Us-East-1"])), "no credentials must not hide a bad region")
        #expect(region.description.contains("Us-East-1"))
    }

    /// `resolve` refuses the same settings itself (the credential helper calls it directly).
    @Test func resolveRefusesBadRetrySettingsToo() async throws {
        let home = try FakeHome()
        let error = try #require(await resolutionError(home.input(Self.keys.merging(["AWS_MAX_ATTEMPTS": "0"]) { $1 })))
        #expect(error.isInvalidInput && error.description.contains("AWS_MAX_ATTEMPTS '0'"), "\(error)")
    }

    @Test func roleARNShapeAndLength() {
        for arn in [
            "arn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:role/path/to/ci-pusher",
            "arn:aws-cn:iam::123456789012:role/r", "arn:aws-us-gov:iam::123456789012:role/a+b=c,d.e@f_g-h",
            "arn:aws:iam::123456789012:role/" + String(repeating: "p/", count: 900) + "name"
        ] {
            #expect(STSValidation.isRoleARN(arn), "\(arn.prefix(60))")
        }
        for arn in [
            "arn:aws:iam::123456789012:role/", "arn:aws:iam::123456789012:user/x", "arn:aws:iam::12345678901:role/x",
            "arn:aws:iam::123456789012:role/a b", "arn:aws:iam::123456789012:role/x\n", "arn:aws:sts::123456789012:role/x",
            "arn:evil:iam::123456789012:role/x", "arn:aws:iam::123456789012:role/" + String(repeating: "n", count: 65),
            "arn:aws:iam::123456789012:role/" + String(repeating: "p/", count: 1010) + "name", Self.longARN,
            "arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/x"
        ] {
            #expect(!STSValidation.isRoleARN(arn), "\(arn.prefix(60))")
        }
    }
}
