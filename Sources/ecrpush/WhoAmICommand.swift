import AWSCore
import ArgumentParser
import Foundation
import HTTPTransport
import STS

struct WhoAmICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show the AWS identity ecrpush would use, and where its credentials came from.")

    enum Output: String, ExpressibleByArgument, CaseIterable { case text, json }

    @OptionGroup var aws: AWSOptions

    @Option(help: "text or json.")
    var output: Output = .text

    struct Report: Encodable {
        var account: String
        var arn: String
        var userId: String
        var credentialSource: String
        var region: String
        var regionSource: String
    }

    func validate() throws {
        try aws.checkSettings(for: [nil])
    }

    func run() async throws {
        try await Console.run {
            let resolved = try await aws.resolve(http: HTTPClient())
            let identity = try await STSClient(context: resolved.context).getCallerIdentity()
            let report = Report(
                account: identity.account, arn: identity.arn, userId: identity.userId,
                credentialSource: resolved.credentialSource.description, region: resolved.context.region,
                regionSource: resolved.regionSource)
            switch output {
            case .json:
                Console.out(try JSONOutput.encode(report))
            case .text:
                Console.out(
                    """
                    Account:     \(report.account)
                    ARN:         \(report.arn)
                    UserId:      \(report.userId)
                    Credentials: \(report.credentialSource)
                    Region:      \(report.region) (\(report.regionSource))
                    """)
            }
        }
    }
}
