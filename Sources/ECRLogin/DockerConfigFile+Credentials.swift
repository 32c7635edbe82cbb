import ChildProcess
import Foundation

/// A registry login that the docker CLI keeps: what `docker pull` would send to a registry that is not ECR's.
package struct StoredRegistryLogin: Sendable, Equatable, CustomStringConvertible {
    package var username: String
    package var password: String
    /// Where it came from, for messages: `credHelpers (docker-credential-gcr)`, `auths in ~/.docker/config.json`.
    package var origin: String

    package var description: String { "StoredRegistryLogin(username: \(username), password: <redacted>, from \(origin))" }
}

extension DockerConfigFile {
    /// The login docker would use for `host`: the `credHelpers` entry for it, else the `credsStore`, else the
    /// `auths` entry; nil when none has one (the registry is then used anonymously). Identity tokens (OAuth refresh
    /// tokens) are not used: such registries are read anonymously. A helper that fails or is missing only means
    /// "no login", said through `onWarning`.
    package func credentials(
        for host: String, environment: [String: String], onWarning: @Sendable (String) -> Void = { _ in }
    ) async throws -> StoredRegistryLogin? {
        let document = try load()
        let keys = Self.serverKeys(for: host)
        if let helpers = document["credHelpers"] as? [String: Any],
            let helper = keys.lazy.compactMap({ helpers[$0] as? String }).first, !helper.isEmpty
        {
            return await Self.askHelper(helper, host: host, kind: "credHelpers", environment: environment, onWarning: onWarning)
        }
        if let store = document["credsStore"] as? String, !store.isEmpty,
            let login = await Self.askHelper(store, host: host, kind: "credsStore", environment: environment, onWarning: onWarning)
        {
            return login
        }
        guard let auths = document["auths"] as? [String: Any],
            let entry = keys.lazy.compactMap({ auths[$0] as? [String: Any] }).first
        else { return nil }
        let origin = "auths in \(path)"
        if let auth = entry["auth"] as? String, !auth.isEmpty, let decoded = Data(base64Encoded: auth).map({ String(decoding: $0, as: UTF8.self) }),
            let colon = decoded.firstIndex(of: ":")
        {
            return StoredRegistryLogin(
                username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]), origin: origin)
        }
        if let username = entry["username"] as? String, let password = entry["password"] as? String, !username.isEmpty {
            return StoredRegistryLogin(username: username, password: password, origin: origin)
        }
        return nil
    }

    /// The keys docker may have stored a host's login under (`docker login` writes the bare host; older CLIs and
    /// Docker Hub use URLs).
    static func serverKeys(for host: String) -> [String] {
        let bare = host.lowercased()
        if ["docker.io", "index.docker.io", "registry-1.docker.io"].contains(bare) {
            return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
        }
        return [bare, "https://\(bare)", "http://\(bare)", "https://\(bare)/v1/", "https://\(bare)/v2/"]
    }

    /// `docker-credential-<helper> get` with the host on stdin, as docker runs it.
    static func askHelper(
        _ helper: String, host: String, kind: String, environment: [String: String], onWarning: @Sendable (String) -> Void
    ) async -> StoredRegistryLogin? {
        let program = "docker-credential-" + helper
        guard let executable = CredentialHelper.findOnPath(program, environment: environment) else {
            onWarning("\(kind) names \(program), which is not on PATH: \(host) is read anonymously")
            return nil
        }
        guard let result = try? await ChildProcess.run(executable, arguments: ["get"], environment: environment, stdin: Array(host.utf8)),
            result.status == 0
        else { return nil }  // "credentials not found" is an exit status of 1: anonymous
        struct Answer: Decodable {
            var Username: String
            var Secret: String
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(result.stdout)), !answer.Secret.isEmpty,
            answer.Username != "<token>"
        else { return nil }
        return StoredRegistryLogin(username: answer.Username, password: answer.Secret, origin: "\(kind) (\(program))")
    }
}
