import BuildKitSession
import ECRLogin
import Foundation

/// Registry logins for BuildKit's session, asked for each registry the build pulls from (base images,
/// `--cache-from`):
/// 1. the logins this command already has a way to get (the destination registry of `build-and-push`);
/// 2. ECR hosts (any account and region, FIPS and dual-stack forms) and `[registry …]` sections of ecrpush's
///    config: ecrpush's own login and token cache, the same chain as `docker-credential-ecrpush get`;
/// 3. other hosts: the docker config's `credHelpers`, `credsStore` and `auths`;
/// 4. otherwise nothing, and BuildKit pulls anonymously.
package struct SessionLogins: Sendable {
    /// host[:port] → how to get its login now.
    package var known: [String: @Sendable () async throws -> RegistryCredential]
    package var environment: [String: String]
    package var homeDirectory: String

    package init(
        known: [String: @Sendable () async throws -> RegistryCredential] = [:], environment: [String: String], homeDirectory: String
    ) {
        self.known = known
        self.environment = environment
        self.homeDirectory = homeDirectory
    }

    package var provider: RegistryCredentialProvider {
        { host in try await login(for: host) }
    }

    package func login(for host: String) async throws -> RegistryCredential? {
        let host = RegistryHost.hostAndPort(of: host)
        if let known = known[host] { return try await known() }
        let profiles = try RegistryProfiles.load(environment: environment, homeDirectory: homeDirectory)
        if RegistryTarget.resolve(host, in: profiles).isKnown {
            let helper = CredentialHelper(environment: environment, homeDirectory: homeDirectory, version: "")
            let output = await helper.run(action: "get", input: Data(host.utf8))
            guard output.exitCode == 0 else {
                if output.stdout.hasPrefix(CredentialHelper.notFoundMessage) { return nil }
                throw ECRPushError.invalidArgument(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            struct Answer: Decodable {
                var Username: String
                var Secret: String
            }
            let answer = try JSONDecoder().decode(Answer.self, from: Data(output.stdout.utf8))
            return RegistryCredential(username: answer.Username, secret: answer.Secret)
        }
        let config = DockerConfigFile(path: DockerConfigFile.defaultPath(environment: environment, homeDirectory: homeDirectory))
        guard let login = try await config.login(for: host, environment: environment) else { return nil }
        return RegistryCredential(username: login.username, secret: login.secret)
    }
}
