import Foundation

/// Merges registry logins into a docker CLI config (`$DOCKER_CONFIG/config.json`) as `docker login` would:
/// every other key is kept, the file is replaced atomically and stays 0600.
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
    }

    package func merge(logins: [(registry: String, username: String, password: String)]) throws -> MergeResult {
        var document = try load()
        var auths = document["auths"] as? [String: Any] ?? [:]
        var result = MergeResult()
        let helpers = document["credHelpers"] as? [String: Any] ?? [:]
        for login in logins {
            var entry = auths[login.registry] as? [String: Any] ?? [:]
            entry["auth"] = Data("\(login.username):\(login.password)".utf8).base64EncodedString()
            auths[login.registry] = entry
            if let helper = helpers[login.registry] as? String {
                result.shadowedBy[login.registry] = "credHelpers entry 'docker-credential-\(helper)'"
            } else if let store = document["credsStore"] as? String, !store.isEmpty {
                result.shadowedBy[login.registry] = "credsStore 'docker-credential-\(store)'"
            }
        }
        document["auths"] = auths
        try write(document)
        return result
    }

    func load() throws -> [String: Any] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ECRPushError.dockerConfigUnreadable(path: path, detail: error.localizedDescription)
        }
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data), let dictionary = object as? [String: Any] else {
            throw ECRPushError.dockerConfigUnreadable(path: path, detail: "not a JSON object")
        }
        return dictionary
    }

    func write(_ document: [String: Any]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let data: Data
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        } catch {
            throw ECRPushError.dockerConfigUnwritable(path: path, detail: error.localizedDescription)
        }
        do {
            try PrivateFile.writeAtomically(data, to: path, temporaryPrefix: ".config.json.ecrpush-")
        } catch {
            throw ECRPushError.dockerConfigUnwritable(path: path, detail: error.detail)
        }
    }
}
