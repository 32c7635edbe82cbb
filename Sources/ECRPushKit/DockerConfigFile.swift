import Foundation

/// Merges registry logins into a docker CLI config (`$DOCKER_CONFIG/config.json`) as `docker login` would:
/// every other key is kept, the file is replaced atomically and stays 0600.
public struct DockerConfigFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    public static func defaultPath(environment: [String: String], homeDirectory: String) -> String {
        if let directory = environment["DOCKER_CONFIG"], !directory.isEmpty { return directory + "/config.json" }
        return homeDirectory + "/.docker/config.json"
    }

    public struct MergeResult: Sendable {
        /// Registries for which docker will consult a credential helper or store instead of `auths`.
        public var shadowedBy: [String: String] = [:]
    }

    public func merge(logins: [(registry: String, username: String, password: String)]) throws -> MergeResult {
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
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        } catch {
            throw ECRPushError.dockerConfigUnwritable(path: path, detail: error.localizedDescription)
        }
        // Write a 0600 temporary file beside the target, then rename: readers never see half a file, and the
        // secret is never in a file others can read, even briefly.
        let temporary = directory + "/.config.json.ecrpush-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            throw ECRPushError.dockerConfigUnwritable(path: path, detail: String(cString: strerror(errno)))
        }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let detail = String(cString: strerror(errno))
            unlink(temporary)
            throw ECRPushError.dockerConfigUnwritable(path: path, detail: detail)
        }
    }
}
