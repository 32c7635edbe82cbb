import ArgumentParser
import AWSCore
import ECR
import ECRPushKit
import Foundation
import HTTPTransport

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Get a docker login for ECR.",
        discussion: """
        Prints the registry password alone by default, for:
          ecrpush login | docker login --username AWS --password-stdin <registry>
        --output json gives username, password, registry, proxyEndpoint and expiresAt for each registry;
        --output docker-config writes the logins into $DOCKER_CONFIG/config.json (0600) as docker login does.
        """)

    enum Output: String, ExpressibleByArgument, CaseIterable {
        case password, json
        case dockerConfig = "docker-config"
    }

    @OptionGroup var aws: AWSOptions

    @Option(name: .customLong("registry-id"), help: "Account id of a registry to log in to (repeatable; default: your own).")
    var registryIds: [String] = []

    @Option(help: "password, json or docker-config.")
    var output: Output = .password

    func validate() throws { try validateRegistryIds(registryIds) }

    func run() async throws {
        try await Console.run {
            let http = HTTPClient()
            let resolved = try await aws.resolve(http: http)
            let logins = try await LoginWorkflow.logins(ecr: ECRClient(context: resolved.context), registryIds: registryIds)
            switch output {
            case .password:
                if logins.count > 1 {
                    Console.err("ecrpush: \(logins.count) registries: printing one password per line, in the order of --registry-id")
                }
                for login in logins { Console.out(login.password) }
            case .json:
                Console.out(try JSONOutput.encode(logins))
            case .dockerConfig:
                let environment = ProcessInfo.processInfo.environment
                let config = DockerConfigFile(path: DockerConfigFile.defaultPath(environment: environment,
                                                                                homeDirectory: NSHomeDirectory()))
                let result = try config.merge(logins: logins.map { ($0.registry, $0.username, $0.password) })
                for login in logins {
                    Console.err("Login for \(login.registry) written to \(config.path)")
                    if let helper = result.shadowedBy[login.registry] {
                        Console.err("ecrpush: warning: docker will use the \(helper) for \(login.registry), not this login")
                    }
                }
            }
        }
    }
}
