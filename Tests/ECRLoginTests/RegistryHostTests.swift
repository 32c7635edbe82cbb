import AWSCore
import ECRLogin
import Foundation
import Testing

@Suite struct RegistryHostTests {
    struct Valid: Sendable, CustomStringConvertible {
        var input: String
        var account: String?
        var region: String
        var partition: Partition
        var fips = false
        var dualStack = false
        var isPublic = false
        var description: String { input }
    }

    static let valid: [Valid] = [
        Valid(input: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", account: "123456789012", region: "eu-west-1", partition: .aws),
        Valid(input: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com", account: "123456789012", region: "us-east-1", partition: .aws),
        Valid(input: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com:443/v2/", account: "123456789012", region: "us-east-1", partition: .aws),
        Valid(input: "123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM.", account: "123456789012", region: "us-east-1", partition: .aws),
        Valid(input: "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn", account: "210987654321", region: "cn-north-1", partition: .awsCN),
        Valid(input: "123456789012.dkr.ecr-fips.us-east-2.amazonaws.com", account: "123456789012", region: "us-east-2", partition: .aws, fips: true),
        Valid(input: "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", account: "123456789012", region: "us-gov-west-1", partition: .awsUSGov),
        Valid(
            input: "123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com", account: "123456789012", region: "us-gov-east-1", partition: .awsUSGov,
            fips: true),
        Valid(input: "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", account: "123456789012", region: "us-iso-east-1", partition: .awsISO),
        Valid(input: "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", account: "123456789012", region: "us-isob-east-1", partition: .awsISOB),
        Valid(input: "123456789012.dkr-ecr.eu-central-1.on.aws", account: "123456789012", region: "eu-central-1", partition: .aws, dualStack: true),
        Valid(
            input: "123456789012.dkr-ecr-fips.us-east-1.on.aws", account: "123456789012", region: "us-east-1", partition: .aws, fips: true,
            dualStack: true),
        Valid(
            input: "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn", account: "123456789012", region: "cn-northwest-1",
            partition: .awsCN, dualStack: true),
        Valid(input: "public.ecr.aws", account: nil, region: "us-east-1", partition: .aws, isPublic: true),
        Valid(input: "https://public.ecr.aws/v2/", account: nil, region: "us-east-1", partition: .aws, isPublic: true)
    ]

    @Test(arguments: valid)
    func parsesEveryECRForm(_ case_: Valid) throws {
        let host = try #require(RegistryHost.parse(case_.input))
        #expect(host.accountId == case_.account)
        #expect(host.region == case_.region)
        #expect(host.partition == case_.partition)
        #expect(host.fips == case_.fips)
        #expect(host.dualStack == case_.dualStack)
        #expect(host.isPublic == case_.isPublic)
        #expect(host.host == host.host.lowercased() && !host.host.contains("/") && !host.host.contains(":"))
    }

    static let refused = [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",
        "123456789012.dkr.ecr.us-east-1.evil-amazonaws.com",
        "evil-amazonaws.com",
        "dkr.ecr.us-east-1.amazonaws.com",
        "x.dkr.ecr.us-east-1.amazonaws.com",
        "12345678901.dkr.ecr.us-east-1.amazonaws.com",
        "1234567890123.dkr.ecr.us-east-1.amazonaws.com",
        "evil.123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn",  // an aws region under the China suffix
        "123456789012.dkr.ecr.cn-north-1.amazonaws.com",  // and the other way round
        "123456789012.dkr.ecr.notaregion.amazonaws.com",
        "123456789012.dkr.ecr.us-east-1.on.aws",
        "123456789012.dkr-ecr.us-east-1.amazonaws.com",
        "123456789012.dkr-ecr.us-east-1.on.aws.evil.example",
        "123456789012.dkr.ecr-evil.us-east-1.amazonaws.com",
        "public.ecr.aws.evil.example",
        "evilpublic.ecr.aws",
        "index.docker.io",
        "127.0.0.1:5000",
        ""
    ]

    @Test(arguments: refused)
    func refusesLookAlikes(_ input: String) {
        #expect(RegistryHost.parse(input) == nil)
    }

    @Test func hostNameDropsSchemeUserPortAndPath() {
        #expect(RegistryHost.hostName(of: "https://user@Host.Example:5000/v2/x?y") == "host.example")
        #expect(RegistryHost.hostAndPort(of: "http://127.0.0.1:5000/v2/") == "127.0.0.1:5000")
        #expect(RegistryHost.hostAndPort(of: "127.0.0.1:5000") == "127.0.0.1:5000")
    }

    /// A FIPS registry host must have its API calls served by the FIPS endpoint, not the standard one.
    @Test func fipsHostsUseFIPSEndpoints() throws {
        let fips = try #require(RegistryHost.parse("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com"))
        let endpoints = EndpointConfiguration.fromEnvironment(fips.environmentOverrides)
        #expect(endpoints.useFIPS)
        #expect(endpoints.url(for: .ecr, region: fips.region) == "https://ecr-fips.us-gov-west-1.amazonaws.com")
        let plain = try #require(RegistryHost.parse("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com"))
        #expect(
            EndpointConfiguration.fromEnvironment(plain.environmentOverrides).url(for: .ecr, region: plain.region)
                == "https://api.ecr.us-gov-west-1.amazonaws.com")
    }
}
