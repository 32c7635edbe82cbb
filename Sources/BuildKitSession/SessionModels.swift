import Foundation

/// A build secret the session gives the Engine for `RUN --mount=type=secret,id=…`. Only where the value comes
/// from is held: the file or variable is read when the Engine asks, and the value lives in memory only.
package struct BuildSecret: Sendable, Equatable {
    package enum Source: Sendable, Equatable, CustomStringConvertible {
        case file(String)
        case environment(String)

        package var description: String {
            switch self {
            case .file(let path): return "file \(path)"
            case .environment(let name): return "environment variable \(name)"
            }
        }
    }

    package var id: String
    package var source: Source

    package init(id: String, source: Source) {
        self.id = id
        self.source = source
    }

    /// The value, read now. Errors name the id and the source, never any content.
    package func value(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [UInt8] {
        switch source {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                let exists = FileManager.default.fileExists(atPath: path)
                throw BuildKitError.secretUnavailable(id: id, source: source.description, detail: exists ? "cannot be read" : "no such file")
            }
            return [UInt8](data)
        case .environment(let name):
            guard let value = environment[name] else {
                throw BuildKitError.secretUnavailable(id: id, source: source.description, detail: "not set")
            }
            return Array(value.utf8)
        }
    }
}

/// A registry login handed to the Engine for one host (basic auth: the username and the password or token).
package struct RegistryCredential: Sendable, Equatable {
    package var username: String
    package var secret: String

    package init(username: String, secret: String) {
        self.username = username
        self.secret = secret
    }
}

/// The login for a registry host as BuildKit names it (`docker.io` is `registry-1.docker.io`; a port is kept);
/// nil pulls anonymously. Thrown errors reach the build as the pull's failure, so they must hold no secret.
package typealias RegistryCredentialProvider = @Sendable (_ host: String) async throws -> RegistryCredential?

/// What the session did for the Engine, for the progress display. Never carries a secret's value.
package enum SessionEvent: Sendable, Hashable {
    case secretServed(id: String)
    case secretMissing(id: String)
    case credentialsServed(host: String)
    case credentialsAnonymous(host: String)
    case credentialsFailed(host: String, reason: String)
    /// A step mounted an agent id (`--mount=type=ssh,id=…`) that was forwarded.
    case sshAgentChecked(id: String)
    /// A step mounted an agent id that no `--ssh` gave.
    case sshAgentMissing(id: String)
    /// The agent's socket could not be reached, or the connection broke.
    case sshAgentFailed(id: String, reason: String)
    /// A step asked the agent to add, remove or lock keys (or an extension): refused, the agent is read-only.
    case sshRequestRefused(id: String, messageType: UInt8)
}
