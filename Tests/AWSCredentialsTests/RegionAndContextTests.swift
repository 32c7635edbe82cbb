import AWSCore
import AWSCredentials
import Foundation
import Testing

/// Region order (--region, AWS_REGION, AWS_DEFAULT_REGION, profile, IMDS) and the rest of the context.
@Suite struct RegionResolutionTests {
    static let keys = ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"]
    static let config = "[default]\nregion = eu-central-1\n[profile dev]\nregion = ap-southeast-2\n"

    private func input(
        _ home: FakeHome, _ env: [String: String], flag: String? = nil,
        profile: String? = nil
    ) -> AWSResolutionInput {
        // No AWS_REGION from the isolated base here: each test sets exactly what it means.
        home.input(Self.keys.merging(["AWS_REGION": ""]) { $1 }.merging(env) { $1 }, profile: profile, region: flag)
    }

    @Test func eachSourceBeatsTheLaterOnes() async throws {
        let home = try FakeHome(config: Self.config)
        let all = ["AWS_REGION": "us-west-1", "AWS_DEFAULT_REGION": "us-west-2"]

        let flag = try await resolve(input(home, all, flag: "ca-central-1"))
        #expect((flag.context.region, flag.regionSource) == ("ca-central-1", "--region"))

        let region = try await resolve(input(home, all))
        #expect((region.context.region, region.regionSource) == ("us-west-1", "AWS_REGION"))

        let defaultRegion = try await resolve(input(home, ["AWS_DEFAULT_REGION": "us-west-2"]))
        #expect((defaultRegion.context.region, defaultRegion.regionSource) == ("us-west-2", "AWS_DEFAULT_REGION"))

        let profile = try await resolve(input(home, [:]))
        #expect(profile.context.region == "eu-central-1")
        #expect(profile.regionSource == "profile 'default' in \(home.configPath)")

        let named = try await resolve(input(home, [:], profile: "dev"))
        #expect(named.context.region == "ap-southeast-2")
        let fromEnvProfile = try await resolve(input(home, ["AWS_PROFILE": "dev"]))
        #expect(fromEnvProfile.context.region == "ap-southeast-2")
    }

    @Test func missingRegionListsWhereItLooked() async throws {
        let home = try FakeHome()
        let error = try #require(await resolutionError(input(home, [:])))
        guard case .missingRegion(let searched) = error else {
            Issue.record("expected missingRegion, got \(error)")
            return
        }
        #expect(searched.first == "--region")
        #expect(searched.contains("AWS_REGION") && searched.contains("AWS_DEFAULT_REGION"))
        #expect(searched.contains { $0.contains(home.configPath) })
        #expect(searched.last?.contains("AWS_EC2_METADATA_DISABLED") == true)
    }

    @Test func regionNamesAreValidated() async throws {
        let home = try FakeHome(config: "[default]\nregion = evil.example.com/\n")
        let fromEnv = try #require(await resolutionError(input(home, ["AWS_REGION": "us_east_1"])))
        #expect("\(fromEnv)".contains("AWS_REGION"))
        let fromProfile = try #require(await resolutionError(input(home, [:])))
        #expect("\(fromProfile)".contains("evil.example.com/"))
        #expect("\(fromProfile)".contains("profile 'default'"))
    }

    @Test func endpointsRetriesAndDebug() async throws {
        let home = try FakeHome()
        let env = [
            "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:1111", "AWS_ENDPOINT_URL": "http://127.0.0.1:2222",
            "AWS_MAX_ATTEMPTS": "7", "AWS_REGION": "eu-west-1"
        ]
        let fromEnv = try await resolve(input(home, env))
        #expect(fromEnv.context.endpoints.url(for: .sts, region: "eu-west-1") == "http://127.0.0.1:1111")
        #expect(fromEnv.context.endpoints.url(for: .ecr, region: "eu-west-1") == "http://127.0.0.1:2222")
        #expect(fromEnv.context.retry.maxAttempts == 7)

        var withFlag = input(home, env)
        withFlag.endpointURL = "http://127.0.0.1:3333"
        let flag = try await resolve(withFlag)
        #expect(flag.context.endpoints.url(for: .sts, region: "eu-west-1") == "http://127.0.0.1:3333")
        #expect(flag.context.endpoints.url(for: .ecr, region: "eu-west-1") == "http://127.0.0.1:3333")

        let plain = try await resolve(input(home, ["AWS_REGION": "eu-west-1"]))
        #expect(plain.context.endpoints.url(for: .sts, region: "eu-west-1") == "https://sts.eu-west-1.amazonaws.com")
    }
}
