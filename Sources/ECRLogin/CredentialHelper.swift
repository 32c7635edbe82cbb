import AWSCore
import AWSCredentials
import Foundation
import HTTPTransport

/// What the credential helper answers: the bytes for stdout and stderr and the exit status (the executable
/// writes them; this module never prints).
package struct CredentialHelperOutput: Sendable, Equatable {
    package var stdout: String
    package var stderr: String
    package var exitCode: Int32

    package init(stdout: String, stderr: String = "", exitCode: Int32 = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.exitCode = exitCode
    }
}

/// `docker-credential-ecrpush`, in the docker-credential-helpers protocol: the action is the first argument,
/// its input comes on stdin, the answer is JSON on stdout; an error is its message on stdout with exit 1.
/// Because docker shows only that message (and hides "not found" entirely), the plain cause also goes to stderr.
package struct CredentialHelper: Sendable {
    /// The message docker recognises as "no credentials here": it then goes on anonymously.
    package static let notFoundMessage = "credentials not found in native keychain"

    package var environment: [String: String]
    package var homeDirectory: String
    package var version: String
    package var http: HTTPClient

    package init(environment: [String: String], homeDirectory: String, version: String, http: HTTPClient = HTTPClient()) {
        self.environment = environment
        self.homeDirectory = homeDirectory
        self.version = version
        self.http = http
    }

    package func run(action: String?, input: Data) async -> CredentialHelperOutput {
        switch action {
        case "get":
            return await get(serverURL: String(decoding: input, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        case "list":
            return await list()
        case "store", "erase":
            return await storeOrErase(action: action ?? "", input: input)
        case "version":
            return CredentialHelperOutput(stdout: "docker-credential-ecrpush (ecrpush) \(version)\n")
        default:
            return CredentialHelperOutput(
                stdout: "Usage: docker-credential-ecrpush <store|get|erase|list|version>\n",
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
        let target = RegistryTarget.resolve(serverURL, in: profiles)
        guard target.isKnown else {
            if let helper = profiles.credentialHelper {
                return await delegate("get", input: Data(serverURL.utf8), to: helper, configuredIn: profiles.path)
            }
            return notFound(
                "\(serverURL) is not an Amazon ECR registry host and has no [registry \(RegistryHost.hostAndPort(of: serverURL))] section in "
                    + "\(profiles.path), so ecrpush has no credentials for it"
            )
        }
        if !target.isPublic, target.registryId == nil {
            return failure(
                "[registry \(target.profile?.name ?? serverURL)] in \(profiles.path) needs registry_id = <account id>: \(serverURL) is not an ECR "
                    + "host name that says its account",
                detail: nil)
        }

        var input = AWSResolutionInput(environment: environment, homeDirectory: homeDirectory)
        target.apply(to: &input)
        let what = target.isPublic ? "ECR Public" : "registry \(target.registryId ?? "")"
        do {
            let resolved = try await AWSResolver.resolve(input, http: http, debug: nil)
            let login = try await CachedLoginWorkflow.login(
                for: target, resolved: resolved,
                cache: TokenCache.fromEnvironment(environment, homeDirectory: homeDirectory))
            let answer =
                "{\"ServerURL\":\(Self.goJSONString(serverURL)),\"Username\":\(Self.goJSONString(login.username)),"
                + "\"Secret\":\(Self.goJSONString(login.password))}\n"
            return CredentialHelperOutput(stdout: answer)
        } catch let error as AWSError where target.isPublic && Self.isWithoutCredentials(error) {
            // Public images need no login: without credentials docker pulls anonymously, as it would without us.
            // (Credentials AWS refuses are an error: someone meant them to work.)
            return notFound("no usable AWS credentials for an ECR Public login, so docker pulls from public.ecr.aws anonymously: \(error)")
        } catch {
            return failure("getting an ECR login for \(serverURL) (\(what)) failed: \(String(describing: error))", detail: nil)
        }
    }

    static func isWithoutCredentials(_ error: AWSError) -> Bool {
        switch error {
        case .missingCredentials, .credentialProviderFailed: return true
        default: return false
        }
    }

    // MARK: list

    /// The registries ecrpush knows (its config file's host sections and registry endpoints, and the cached
    /// logins, each with user AWS), and those of the delegate helper when the config names one.
    func list() async -> CredentialHelperOutput {
        var registries: [String: String] = [:]
        let profiles = try? RegistryProfiles.load(environment: environment, homeDirectory: homeDirectory)
        if let helper = profiles?.credentialHelper, let path = profiles?.path {
            let delegated = await delegate("list", input: Data(), to: helper, configuredIn: path)
            guard delegated.exitCode == 0 else { return delegated }
            guard let theirs = try? JSONDecoder().decode([String: String].self, from: Data(delegated.stdout.utf8)) else {
                return failure(
                    "docker-credential-\(helper) list printed something that is not a JSON object of server URL to user name",
                    detail: "credential_helper in \(path)")
            }
            registries = theirs
        }
        for profile in profiles?.profiles ?? [] {
            if RegistryTarget.looksLikeHost(profile.name) { registries[profile.name] = "AWS" }
            if let endpoint = profile.registryEndpoint { registries[endpoint] = "AWS" }
        }
        if let cache = TokenCache.fromEnvironment(environment, homeDirectory: homeDirectory) {
            for login in cache.freshLogins() { registries[login.registry] = "AWS" }
        }
        let body = registries.keys.sorted().map { "\(Self.goJSONString($0)):\(Self.goJSONString(registries[$0] ?? ""))" }
            .joined(separator: ",")
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
    package static func goJSONString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                fallthrough
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
