import ChildProcess
import Foundation

/// `[default] credential_helper = NAME` in ecrpush's config: logins for registries that are not ECR's are kept by
/// `docker-credential-NAME`, so ecrpush can be docker's `credsStore` for everything. Without it, `store` and
/// `erase` are accepted and do nothing (ECR logins are short-lived and made on demand).
extension CredentialHelper {
    func storeOrErase(action: String, input: Data) async -> CredentialHelperOutput {
        let profiles: RegistryProfiles
        do {
            profiles = try RegistryProfiles.load(environment: environment, homeDirectory: homeDirectory)
        } catch {
            return failure(error.description, detail: nil)
        }
        guard let helper = profiles.credentialHelper else { return CredentialHelperOutput(stdout: "") }
        // store gets {"ServerURL": …, "Username": …, "Secret": …}; erase gets the server URL alone.
        struct Stored: Decodable { var ServerURL: String }
        let serverURL =
            action == "store"
            ? ((try? JSONDecoder().decode(Stored.self, from: input))?.ServerURL ?? "")
            : String(decoding: input, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if !serverURL.isEmpty, RegistryTarget.resolve(serverURL, in: profiles).isKnown {
            return CredentialHelperOutput(stdout: "")  // ecrpush's own registry: nothing to keep
        }
        return await delegate(action, input: input, to: helper, configuredIn: profiles.path)
    }

    /// Runs `docker-credential-<helper> <action>` from PATH with `input` on its stdin and this environment; its
    /// stdout, stderr and exit status are the answer, as if docker had called it.
    func delegate(_ action: String, input: Data, to helper: String, configuredIn path: String) async -> CredentialHelperOutput {
        let program = "docker-credential-" + helper
        guard let executable = Self.findOnPath(program, environment: environment) else {
            return failure(
                "\(program) is not on PATH (PATH=\(environment["PATH"] ?? ""))",
                detail: "credential_helper = \(helper) in \(path): install it or change the setting")
        }
        do {
            let result = try await ChildProcess.run(
                executable, arguments: [action], environment: environment,
                stdin: Array(input))
            return CredentialHelperOutput(
                stdout: String(decoding: result.stdout, as: UTF8.self),
                stderr: String(decoding: result.stderr, as: UTF8.self), exitCode: result.status)
        } catch {
            return failure("\(program) \(action) could not be run: \(error)", detail: "credential_helper in \(path)")
        }
    }

    static func findOnPath(_ program: String, environment: [String: String]) -> String? {
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") where !directory.isEmpty {
            let candidate = directory + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
