import Foundation

/// A registry login as docker would find it: user name and password (or identity token).
package struct DockerLogin: Sendable, Equatable {
    package var username: String
    package var secret: String

    package init(username: String, secret: String) {
        self.username = username
        self.secret = secret
    }
}

extension DockerConfigFile {
    /// The login docker would use for `host` (host[:port]): `credHelpers[host]`, else `credsStore`, else `auths` (its
    /// `auth`, `username`/`password` or `identitytoken`). nil when the config knows nothing for it. Docker Hub's hosts
    /// are looked up as `https://index.docker.io/v1/`, as docker stores them.
    package func login(for host: String, environment: [String: String]) async throws -> DockerLogin? {
        let document = try load()
        let host = RegistryHost.hostAndPort(of: host)
        let isDockerHub = ["docker.io", "registry-1.docker.io", "index.docker.io"].contains(host)
        let serverURL = isDockerHub ? "https://index.docker.io/v1/" : host
        if let helper = (document["credHelpers"] as? [String: Any])?.first(where: { RegistryHost.hostAndPort(of: $0.key) == host })?.value as? String
        {
            return try await helperLogin(helper, serverURL: serverURL, environment: environment)
        }
        if let store = document["credsStore"] as? String, !store.isEmpty,
            let login = try await helperLogin(store, serverURL: serverURL, environment: environment)
        {
            return login
        }
        let auths = document["auths"] as? [String: Any] ?? [:]
        let entry =
            auths.first { key, _ in
                isDockerHub
                    ? key.contains("index.docker.io") || RegistryHost.hostAndPort(of: key) == "docker.io" : RegistryHost.hostAndPort(of: key) == host
            }?.value as? [String: Any]
        guard let entry else { return nil }
        if let token = entry["identitytoken"] as? String, !token.isEmpty { return DockerLogin(username: "", secret: token) }
        if let auth = entry["auth"] as? String, let decoded = Data(base64Encoded: auth), let text = String(data: decoded, encoding: .utf8),
            let colon = text.firstIndex(of: ":")
        {
            return DockerLogin(username: String(text[..<colon]), secret: String(text[text.index(after: colon)...]))
        }
        if let username = entry["username"] as? String, let password = entry["password"] as? String {
            return DockerLogin(username: username, secret: password)
        }
        return nil
    }

    /// `docker-credential-<helper> get`; its "not found" answer (exit 1) is nil, any other failure an error naming
    /// the helper and what it said.
    private func helperLogin(_ helper: String, serverURL: String, environment: [String: String]) async throws -> DockerLogin? {
        let delegate = CredentialHelper(environment: environment, homeDirectory: "/", version: "")
        let output = await delegate.delegate("get", input: Data(serverURL.utf8), to: helper, configuredIn: path)
        guard output.exitCode == 0 else {
            if output.stdout.lowercased().contains("credentials not found") { return nil }
            throw ECRLoginError.dockerConfigUnreadable(
                path: path,
                detail: "docker-credential-\(helper) get \(serverURL) failed: \(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        struct Answer: Decodable {
            var Username: String?
            var Secret: String?
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(output.stdout.utf8)), let secret = answer.Secret, !secret.isEmpty else {
            return nil
        }
        // The helpers' convention for an identity token.
        let username = answer.Username == "<token>" ? "" : answer.Username ?? ""
        return DockerLogin(username: username, secret: secret)
    }
}
