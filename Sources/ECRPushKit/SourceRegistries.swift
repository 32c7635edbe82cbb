import ECRLogin
import Foundation
import HTTPTransport
import RegistryClient

/// How ecrpush reads a base image's registry when it is not the destination: an ECR registry (another account
/// or region) with ecrpush's own login, any other registry with the login docker keeps for it (the docker
/// config's `credHelpers`, `credsStore` or `auths`), and anonymously when there is none (a token service's
/// anonymous token where the registry has one). These logins go to their own registry only: the destination
/// never sees them, nor they the destination's.
package struct SourceRegistries: Sendable {
    /// A login for an ECR registry host other than the destination's.
    package var ecrLogin: (@Sendable (RegistryHost) async throws -> RegistryLogin)?
    /// The docker config to read logins from (nil: every other registry is read anonymously).
    package var dockerConfig: DockerConfigFile?
    package var environment: [String: String]
    package var http: HTTPClient
    package var retryPolicy: RegistryRetryPolicy

    package init(
        ecrLogin: (@Sendable (RegistryHost) async throws -> RegistryLogin)? = nil, dockerConfig: DockerConfigFile? = nil,
        environment: [String: String] = [:], http: HTTPClient = HTTPClient(), retryPolicy: RegistryRetryPolicy = RegistryRetryPolicy()
    ) {
        self.ecrLogin = ecrLogin
        self.dockerConfig = dockerConfig
        self.environment = environment
        self.http = http
        self.retryPolicy = retryPolicy
    }

    /// A client for `host` (`host[:port]`), with whatever login there is for it.
    package func client(for host: String, onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async -> RegistryClient {
        var credentials: RegistryCredentials?
        if let ecrHost = RegistryHost.parse(host), !ecrHost.isPublic, let ecrLogin {
            do {
                let login = try await ecrLogin(ecrHost)
                credentials = RegistryCredentials(username: login.username, password: login.password)
            } catch {
                onEvent(.info("No ECR login for \(host) (\(error)); reading it anonymously"))
            }
        } else if let dockerConfig {
            do {
                // An identity token (an OAuth refresh token, no user name) is not a password: read anonymously then.
                let stored = try await dockerConfig.login(for: host, environment: environment)
                credentials = stored.flatMap { $0.username.isEmpty ? nil : RegistryCredentials(username: $0.username, password: $0.secret) }
            } catch {
                onEvent(.info("The docker config could not be read (\(error)); reading \(host) anonymously"))
            }
        }
        // Docker Hub's images are named docker.io/…; its registry API answers at registry-1.docker.io.
        var client = RegistryClient(baseURL: host == "docker.io" ? "registry-1.docker.io" : host, credentials: credentials, http: http)
        client.retryPolicy = retryPolicy
        client.onRetry = { onEvent(.info($0.description)) }
        return client
    }
}
