import AWSCore
import ArgumentParser
import ECR
import ECRLogin
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
            --output docker-config writes the logins into $DOCKER_CONFIG/config.json as docker login does (through a \
            symbolic link, keeping the file's mode; 0600 when new);
            --output github masks the password and appends registry, username, password and expires-at to $GITHUB_OUTPUT \
            (created when missing);
            --output env prints `export ECR_REGISTRY=… ECR_USERNAME=… ECR_PASSWORD=…` for eval.
            --public (or --registry public.ecr.aws) logs in to ECR Public; --registry also takes an alias, a \
            [registry ALIAS] section of $XDG_CONFIG_HOME/ecrpush/config (default ~/.config/ecrpush/config).
            Logins are cached in $XDG_CACHE_HOME/ecrpush (default ~/.cache/ecrpush) while more than 30 minutes of \
            them remain; --no-cache or ECRPUSH_NO_CACHE=1 always asks ECR.
            """)

    enum Output: String, ExpressibleByArgument, CaseIterable {
        case password, json
        case dockerConfig = "docker-config"
        case github, env
    }

    @OptionGroup var aws: AWSOptions

    @Option(name: .customLong("registry-id"), help: "Account id of a registry to log in to (repeatable; default: your own).")
    var registryIds: [String] = []

    @Option(
        name: .customLong("registry"),
        help: ArgumentHelp(
            "ECR registry host to log in to, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com, public.ecr.aws, or an alias from the ecrpush config "
                + "file (repeatable: accounts × regions in one call; the account and region come from the host or the config section).",
            valueName: "host-or-alias"))
    var registryHosts: [String] = []

    @Flag(help: "Log in to ECR Public (public.ecr.aws), as --registry public.ecr.aws.")
    var `public` = false

    @Option(help: "password, json, docker-config, github or env.")
    var output: Output = .password

    @Flag(help: "Always ask ECR for a new login (don't read or write the login cache).")
    var noCache = false

    /// `--registry` values, then `--public`.
    var registryNames: [String] { registryHosts + (`public` ? [ECRPublicClient.registryHost] : []) }

    func validate() throws {
        try validateRegistryIds(registryIds)
        let targets = try registryTargets()
        // The AWS settings each login will use (a section can name another profile or region), before any request.
        try aws.checkSettings(for: targets.isEmpty ? [nil] : targets)
        if !registryNames.isEmpty, !registryIds.isEmpty {
            throw ValidationError("use --registry (or --public) or --registry-id, not both: a host already names its account")
        }
        if output == .github || output == .env, registryIds.count + registryNames.count > 1 {
            throw ValidationError("--output \(output.rawValue) describes one registry: pass at most one --registry-id or --registry")
        }
        if output == .github, (ProcessInfo.processInfo.environment["GITHUB_OUTPUT"] ?? "").isEmpty {
            throw ValidationError(
                "--output github appends to the file named by GITHUB_OUTPUT, which is not set (GitHub Actions sets it in every step)")
        }
    }

    func run() async throws {
        try await Console.run {
            let http = HTTPClient()
            let environment = ProcessInfo.processInfo.environment
            let cache = noCache ? nil : TokenCache.fromEnvironment(environment, homeDirectory: homeDirectory())
            let logins: [RegistryLogin]
            if registryNames.isEmpty {
                let resolved = try await aws.resolve(http: http)
                logins = try await CachedLoginWorkflow.logins(resolved: resolved, registryIds: registryIds, cache: cache)
            } else {
                logins = try await loginsForTargets(try registryTargets(), http: http, cache: cache)
            }
            switch output {
            case .password:
                if logins.count > 1 {
                    Console.err("ecrpush: \(logins.count) registries: printing one password per line, in the order of --registry-id or --registry")
                }
                for login in logins { Console.out(login.password) }
            case .json:
                Console.out(try JSONOutput.encode(logins))
            case .github:
                try writeGitHubOutput(logins[0], path: environment["GITHUB_OUTPUT"] ?? "")
            case .env:
                Console.out(Self.shellExports(logins[0]))
            case .dockerConfig:
                let config = DockerConfigFile(
                    path: DockerConfigFile.defaultPath(
                        environment: environment,
                        homeDirectory: homeDirectory()))
                let result = try config.merge(logins: logins.map { ($0.registry, $0.username, $0.password) })
                let link = result.writtenTo == config.path ? "" : " (a symbolic link to \(result.writtenTo))"
                for login in logins {
                    Console.err("Login for \(login.registry) written to \(config.path)\(link)")
                    if let helper = result.shadowedBy[login.registry] {
                        Console.err("ecrpush: warning: docker will use the \(helper) for \(login.registry), not this login")
                    }
                }
            }
        }
    }
}

extension LoginCommand {
    /// What each `--registry` (and `--public`) names: an ECR host, ECR Public, or a section of the config file.
    func registryTargets() throws -> [RegistryTarget] {
        guard !registryNames.isEmpty else { return [] }
        let environment = ProcessInfo.processInfo.environment
        let profiles: RegistryProfiles
        do {
            profiles = try RegistryProfiles.load(environment: environment, homeDirectory: homeDirectory())
        } catch {
            throw ValidationError(error.description)
        }
        return try registryNames.map { name in
            let target: RegistryTarget
            do {
                target = try RegistryTarget.argument(name, in: profiles)
            } catch {
                throw ValidationError(String(describing: error))
            }
            guard target.isKnown else {
                throw ValidationError(
                    "--registry \(name) is not an ECR registry host (<account>.dkr.ecr.<region>.amazonaws.com or public.ecr.aws) and "
                        + "\(profiles.path) has no [registry \(name)] section"
                )
            }
            return target
        }
    }

    /// One login per target, in the order given: each one's region (and FIPS, section settings) decides where to ask.
    func loginsForTargets(_ targets: [RegistryTarget], http: HTTPClient, cache: TokenCache?) async throws -> [RegistryLogin] {
        var logins: [RegistryLogin] = []
        for target in targets {
            let resolved = try await aws.resolve(http: http, for: target)
            logins.append(try await CachedLoginWorkflow.login(for: target, resolved: resolved, cache: cache))
        }
        return logins
    }

    /// `export …` lines a POSIX shell can eval: every value single-quoted, single quotes escaped as '\''.
    static func shellExports(_ login: RegistryLogin) -> String {
        [("ECR_REGISTRY", login.registry), ("ECR_USERNAME", login.username), ("ECR_PASSWORD", login.password)]
            .map { "export \($0.0)=" + shellQuoted($0.1) }
            .joined(separator: "\n")
    }

    static func shellQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Masks the password in the job log (`::add-mask::` on stdout, before anything else could print it), then
    /// appends the step outputs to $GITHUB_OUTPUT.
    func writeGitHubOutput(_ login: RegistryLogin, path: String) throws {
        // A line break in a value would let it write other outputs: ECR never sends one, but refuse it anyway.
        for value in [login.registry, login.username, login.password] where value.contains(where: \.isNewline) {
            throw ECRLoginError.invalidArgument("the registry login contains a line break: not writing it to GITHUB_OUTPUT")
        }
        Console.out("::add-mask::\(login.password)")
        var lines = ["registry=\(login.registry)", "username=\(login.username)", "password=\(login.password)"]
        if let expiresAt = login.expiresAt { lines.append("expires-at=\(ISO8601DateFormatter().string(from: expiresAt))") }
        try GitHubOutput.append(lines.joined(separator: "\n") + "\n", to: path)
        Console.err("Login for \(login.registry) written to GITHUB_OUTPUT (registry, username, password, expires-at)")
    }
}
