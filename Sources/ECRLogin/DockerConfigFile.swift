import Foundation

/// Merges registry logins into a docker CLI config (`$DOCKER_CONFIG/config.json`) as `docker login` would:
/// every other key is kept, and the file is replaced atomically with the permissions it had (0600 when new).
/// A symbolic link there (dotfile managers make them) is written through, as the docker CLI does: the link
/// stays a link and its target gets the login.
package struct DockerConfigFile: Sendable {
    package let path: String

    package init(path: String) { self.path = path }

    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    package static func defaultPath(environment: [String: String], homeDirectory: String) -> String {
        if let directory = environment["DOCKER_CONFIG"], !directory.isEmpty { return directory + "/config.json" }
        return homeDirectory + "/.docker/config.json"
    }

    package struct MergeResult: Sendable {
        /// Registries for which docker will consult a credential helper or store instead of `auths`.
        package var shadowedBy: [String: String] = [:]
        /// The file written: the config path, or where its chain of symbolic links ends.
        package var writtenTo = ""
    }

    package func merge(logins: [(registry: String, username: String, password: String)]) throws -> MergeResult {
        var document = try load()
        var auths = document["auths"] as? [String: Any] ?? [:]
        var result = MergeResult()
        let helpers = document["credHelpers"] as? [String: Any] ?? [:]
        for login in logins {
            var entry = auths[login.registry] as? [String: Any] ?? [:]
            // docker prefers an identity token (or registry token) to `auth`: a stale one left beside the new
            // login would be used instead of it.
            for field in Self.credentialFields { entry[field] = nil }
            entry["auth"] = Data("\(login.username):\(login.password)".utf8).base64EncodedString()
            auths[login.registry] = entry
            if let helper = helpers[login.registry] as? String {
                result.shadowedBy[login.registry] = "credHelpers entry 'docker-credential-\(helper)'"
            } else if let store = document["credsStore"] as? String, !store.isEmpty {
                result.shadowedBy[login.registry] = "credsStore 'docker-credential-\(store)'"
            }
        }
        document["auths"] = auths
        result.writtenTo = try write(document)
        return result
    }

    /// The credential fields of an `auths` entry (docker's AuthConfig): all of them belong to the login replaced.
    static let credentialFields = ["auth", "username", "password", "identitytoken", "registrytoken"]

    func load() throws -> [String: Any] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ECRLoginError.dockerConfigUnreadable(path: path, detail: error.localizedDescription)
        }
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data), let dictionary = object as? [String: Any] else {
            throw ECRLoginError.dockerConfigUnreadable(path: path, detail: "not a JSON object")
        }
        return dictionary
    }

    /// Returns the file written (the link's target when `path` is a symbolic link).
    @discardableResult
    func write(_ document: [String: Any]) throws -> String {
        let target: String
        do {
            target = try PrivateFile.finalTarget(of: path)
        } catch {
            throw ECRLoginError.dockerConfigUnwritable(path: path, detail: error.detail)
        }
        // The temporary file goes beside the link's target: a rename works within one file system only.
        let directory = PrivateFile.directoryOf(target)
        let data: Data
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        } catch {
            throw ECRLoginError.dockerConfigUnwritable(path: path, detail: error.localizedDescription)
        }
        do {
            try PrivateFile.writeAtomically(data, to: target, temporaryPrefix: ".config.json.ecrpush-", permissions: .keepExisting)
        } catch {
            throw ECRLoginError.dockerConfigUnwritable(path: path, detail: error.detail)
        }
        return target
    }
}
