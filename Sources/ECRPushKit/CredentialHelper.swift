import AWSCore
import AWSCredentials
import Foundation
import HTTPTransport

/// What the credential helper answers: the bytes for stdout and stderr and the exit status (the executable
/// writes them; this module never prints).
public struct CredentialHelperOutput: Sendable, Equatable {
    public var stdout: String
    public var stderr: String
    public var exitCode: Int32

    public init(stdout: String, stderr: String = "", exitCode: Int32 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
    }
}

/// `docker-credential-ecrpush`, in the docker-credential-helpers protocol: the action is the first argument,
/// its input comes on stdin, the answer is JSON on stdout; an error is its message on stdout with exit 1.
/// Because docker shows only that message (and hides "not found" entirely), the plain cause also goes to stderr.
public struct CredentialHelper: Sendable {
    /// The message docker recognises as "no credentials here": it then goes on anonymously.
    public static let notFoundMessage = "credentials not found in native keychain"

    public var environment: [String: String]
    public var homeDirectory: String
    public var version: String
    public var http: HTTPClient

    public init(environment: [String: String], homeDirectory: String, version: String, http: HTTPClient = HTTPClient()) {
        self.environment = environment
        self.homeDirectory = homeDirectory
        self.version = version
        self.http = http
    }

    public func run(action: String?, input: Data) async -> CredentialHelperOutput {
        switch action {
        case "get":
            return await get(serverURL: String(decoding: input, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        case "list":
            return list()
        case "store", "erase":
            // ECR logins are short-lived and made on demand: nothing to keep, nothing to forget.
            return CredentialHelperOutput(stdout: "")
        case "version":
            return CredentialHelperOutput(stdout: "docker-credential-ecrpush (ecrpush) \(version)\n")
        default:
            return CredentialHelperOutput(stdout: "Usage: docker-credential-ecrpush <store|get|erase|list|version>\n",
                                          exitCode: 1)
        }
    }

    // MARK: get

    func get(serverURL: String) async -> CredentialHelperOutput {
        guard !serverURL.isEmpty else {
            return failure("no server URL on stdin", detail: "docker passes the registry's server URL on stdin to 'get'")
        }
        let profiles: RegistryProfiles
        do {
            profiles = try RegistryProfiles.load(environment: environment, homeDirectory: homeDirectory)
        } catch {
            return failure(error.description, detail: nil)
        }
        let host = RegistryHost.parse(serverURL)
        let profile = profiles.profile(for: serverURL)
        if host == nil, profile == nil {
            return notFound("\(serverURL) is not an Amazon ECR registry host and has no [registry \(RegistryHost.hostAndPort(of: serverURL))] section in \(profiles.path), so ecrpush has no credentials for it")
        }
        if let host, host.isPublic, profile == nil {
            return notFound("\(host.host) is ECR Public: ecrpush does not log in to it, docker pulls from it anonymously")
        }
        guard let registryId = profile?.registryId ?? host?.accountId else {
            return failure("[registry \(profile?.name ?? serverURL)] in \(profiles.path) needs registry_id = <account id>: \(serverURL) is not an ECR host name that says its account",
                           detail: nil)
        }

        var input = AWSResolutionInput(environment: environment.merging(host?.environmentOverrides ?? [:]) { $1 },
                                       homeDirectory: homeDirectory)
        input.profile = profile?.profile
        input.region = profile?.region ?? host?.region
        input.endpointURL = profile?.endpointURL
        input.roleArn = profile?.roleArn
        do {
            let resolved = try await AWSResolver.resolve(input, http: http, debug: nil)
            let logins = try await CachedLoginWorkflow.logins(resolved: resolved, registryIds: [registryId],
                                                              cache: TokenCache.fromEnvironment(environment, homeDirectory: homeDirectory))
            guard let login = logins.first else { throw ECRPushError.noAuthorizationData }
            let answer = "{\"ServerURL\":\(Self.goJSONString(serverURL)),\"Username\":\(Self.goJSONString(login.username)),\"Secret\":\(Self.goJSONString(login.password))}\n"
            return CredentialHelperOutput(stdout: answer)
        } catch {
            return failure("getting an ECR login for \(serverURL) (registry \(registryId)) failed: \(String(describing: error))", detail: nil)
        }
    }

    // MARK: list

    /// The registries ecrpush knows: its config file's host sections and the cached logins, each with user AWS.
    func list() -> CredentialHelperOutput {
        var registries = Set<String>()
        if let profiles = try? RegistryProfiles.load(environment: environment, homeDirectory: homeDirectory) {
            for profile in profiles.profiles where profile.name.contains(".") || profile.name.contains(":") {
                registries.insert(profile.name)
            }
        }
        if let cache = TokenCache.fromEnvironment(environment, homeDirectory: homeDirectory) {
            for login in cache.freshLogins() { registries.insert(login.registry) }
        }
        let body = registries.sorted().map { "\(Self.goJSONString($0)):\"AWS\"" }.joined(separator: ",")
        return CredentialHelperOutput(stdout: "{\(body)}\n")
    }

    // MARK: Errors

    func notFound(_ why: String) -> CredentialHelperOutput {
        CredentialHelperOutput(stdout: Self.notFoundMessage + "\n", stderr: "docker-credential-ecrpush: \(why)\n", exitCode: 1)
    }

    func failure(_ message: String, detail: String?) -> CredentialHelperOutput {
        let line = message.replacingOccurrences(of: "\n", with: " ")
        let full = detail.map { "\(line) (\($0))" } ?? line
        return CredentialHelperOutput(stdout: full + "\n", stderr: "docker-credential-ecrpush: error: \(full)\n", exitCode: 1)
    }

    /// A JSON string as Go's encoding/json writes it (what the reference helpers emit): `<`, `>`, `&`, U+2028 and
    /// U+2029 escaped as \u00XX, other controls as \n, \r, \t or \u00XX.
    public static func goJSONString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}", _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
