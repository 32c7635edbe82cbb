import AWSCredentials
import DockerEngine
import ECRLogin
import Foundation
import HTTPTransport

/// A push's first requests are its ECR login, which the environment alone decides in a CI job. They start while
/// ArgumentParser reads the command line (15-25 ms of a push that lasts 0.2 s), and the push takes their answers
/// when its own requests turn out the same (`RequestsAhead`): anything the command line changes makes another
/// request, sent then.
enum LoginAhead {
    /// The AWS client of the login started ahead and of the command's own calls: the connections the early
    /// requests leave open carry the push's later ECR calls.
    static let http = HTTPClient()

    /// Subcommands whose first requests are an ECR login for the caller's registry, whatever else they do.
    static let subcommands: Set<String> = ["push", "build-and-push"]

    /// Flags that make the login another one than the environment's (other credentials, region, endpoint,
    /// registry id): with one of them, a login started ahead would only be wasted.
    static let otherLoginFlags = [
        "--region", "--profile", "--endpoint-url", "--role-arn", "--role-session-name", "--external-id", "--duration", "--mfa-serial",
        "--mfa-token-code", "--registry-id"
    ]

    /// Not with --debug, whose trace shows every request as the command makes it, nor for help, nor with
    /// `ECRPUSH_LOGIN_AHEAD=0`.
    static func isUseful(_ arguments: [String], environment: [String: String]) -> Bool {
        guard environment["ECRPUSH_LOGIN_AHEAD"] != "0", let subcommand = arguments.first, subcommands.contains(subcommand) else { return false }
        return !arguments.contains { argument in
            ["--debug", "--help", "-h"].contains(argument)
                || otherLoginFlags.contains { argument == $0 || argument.hasPrefix($0 + "=") }
        }
    }

    /// Starts the login in the background when it is useful. Only once the Engine's socket takes a connection: a
    /// push without a daemon says so before any AWS request, as it always has.
    /// Returns whether the login may have started (the caller then loads libcurl at once, for its AssumeRole).
    @discardableResult
    static func start(arguments: [String]) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        guard isUseful(arguments, environment: environment) else { return false }
        // `--transport ecr-api` pushes through ECR's API with the role's credentials and no registry password.
        let ecrAPI = values(of: "--transport", in: arguments).contains("ecr-api")
        // The repository a push to one names is looked up beside the login (not for a fan-out to several).
        let repositories = values(of: "--repository", in: arguments)
        LoginWorkflow.startAhead(
            AWSResolutionInput(environment: environment, homeDirectory: homeDirectory(environment)), registryLogin: !ecrAPI,
            repository: repositories.count == 1 ? repositories[0] : nil, http: http
        ) {
            (try? DockerHost.fromEnvironment(environment))?.acceptsConnections ?? false
        }
        return true
    }

    /// The values an option is given on the command line, as `--option value` or `--option=value`.
    static func values(of option: String, in arguments: [String]) -> [String] {
        var values: [String] = []
        for (index, argument) in arguments.enumerated() {
            if argument == option, index + 1 < arguments.count {
                values.append(arguments[index + 1])
            } else if argument.hasPrefix(option + "=") {
                values.append(String(argument.dropFirst(option.count + 1)))
            }
        }
        return values
    }
}
