import ArgumentParser
import DockerEngine
import ECR
import ECRPushKit
import Foundation
import HTTPTransport

/// `ecrpush doctor`: one line per check, the fix under each failure; exit 1 when anything failed.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the Docker daemon, the AWS credentials and region, the registry and the push permissions.",
        discussion: """
            Each check prints ok, FAIL or skip with a detail, and the fix under a failure. With --repository, the push \
            check is a dry run that uploads nothing (DescribeRepositories, BatchCheckLayerAvailability).
            Exit status: 0 when no check failed, 1 otherwise.
            """)

    enum Output: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "Repository to check push permissions on, e.g. team/app.")
    var repository: String?

    @Option(name: .customLong("registry-id"), help: "Account id of the registry to check (default: your own).")
    var registryId: String?

    @Option(
        help:
            ArgumentHelp(
                "Registry to check: an ECR host[:port], or a [registry NAME] section of ecrpush's config (its account, region, credentials and "
                    + "registry_endpoint).")
    )
    var registry: String?

    @Option(help: "text or json.")
    var output: Output = .text

    @OptionGroup var aws: AWSOptions

    func validate() throws {
        if let repository, !ECRValidation.isRepositoryName(repository) {
            throw ValidationError(ECRError.invalidRepositoryName(repository).description)
        }
        if let registryId { try validateRegistryIds([registryId]) }
        try aws.checkSettings(for: [try registry.map { try privateRegistryTarget($0) }])
    }

    func run() async throws {
        let target = try registry.map { try privateRegistryTarget($0) }
        let http = HTTPClient()
        let docker = Result<DockerClient, any Error> { try DockerClient(environment: ProcessInfo.processInfo.environment) }
        let aws = self.aws
        let report = await Doctor(
            docker: docker, resolveAWS: { try await aws.resolve(http: http, for: target) },
            repository: repository, registryId: registryId ?? target?.registryId,
            registryEndpoint: target?.dockerRegistry, http: http
        ).run()
        switch output {
        case .json:
            Console.out(try JSONOutput.encode(report))
        case .text:
            for check in report.checks {
                let status = check.status.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)
                let name = check.name.padding(toLength: 12, withPad: " ", startingAt: 0)
                Console.out("\(status) \(name) \(check.detail)")
                if let fix = check.fix, check.status == .fail { Console.out("      fix: \(fix)") }
            }
        }
        if !report.healthy { throw ExitCode.failure }
    }
}
