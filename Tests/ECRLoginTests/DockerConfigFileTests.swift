import Foundation
import TestWorld
import Testing

@testable import ECRLogin

@Suite struct DockerConfigFileTests {
    /// Other keys and entries are kept, and so is the mode the user gave the file (docker keeps it too).
    @Test func mergeKeepsOtherKeysAndTheFileMode() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/config.json"
        try #"{"auths":{"ghcr.io":{"auth":"Z2g6eA=="}},"credHelpers":{"helped.example":"gcloud"},"detachKeys":"ctrl-e,e"}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        let result = try DockerConfigFile(path: path).merge(logins: [("r.example", "AWS", "pw1"), ("helped.example", "AWS", "pw2")])

        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        #expect(document["detachKeys"] as? String == "ctrl-e,e")
        let auths = try #require(document["auths"] as? [String: [String: String]])
        #expect(auths["ghcr.io"]?["auth"] == "Z2g6eA==")
        #expect(auths["r.example"]?["auth"] == Data("AWS:pw1".utf8).base64EncodedString())
        #expect(result.shadowedBy["helped.example"]?.contains("gcloud") == true)
        #expect(result.shadowedBy["r.example"] == nil)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o644, "the mode the file had, not ecrpush's default")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != "config.json" }
        #expect(leftovers.isEmpty)
    }

    @Test func createsDirectoryAndFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/nested/docker/config.json"
        _ = try DockerConfigFile(path: path).merge(logins: [("r.example", "AWS", "pw")])
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600, "a new config holds a secret: 0600")
        let parent = directory.path + "/nested/docker"
        #expect(try FileManager.default.attributesOfItem(atPath: parent)[.posixPermissions] as? Int == 0o700)
    }

    /// A dotfile manager's link (even a relative chain of two) is written through: the link stays a link, its
    /// target gets the login and keeps its other keys; nothing is left in either directory.
    @Test func symlinkedConfigIsWrittenThroughToItsTarget() throws {
        let home = TemporaryDirectory()
        let dotfiles = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: home.path + "/.docker", withIntermediateDirectories: true)
        let real = dotfiles.path + "/docker-config.json"
        try #"{"auths":{"ghcr.io":{"auth":"Z2g6eA=="}},"psFormat":"table {{.ID}}"}"#.write(toFile: real, atomically: true, encoding: .utf8)
        chmod(real, 0o640)
        try FileManager.default.createSymbolicLink(atPath: dotfiles.path + "/current.json", withDestinationPath: "docker-config.json")
        let link = home.path + "/.docker/config.json"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: dotfiles.path + "/current.json")

        let result = try DockerConfigFile(path: link).merge(logins: [("r.example", "AWS", "pw")])
        #expect(result.writtenTo == real)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == dotfiles.path + "/current.json", "the link is still a link")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dotfiles.path + "/current.json") == "docker-config.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: real))) as? [String: Any])
        let auths = try #require(document["auths"] as? [String: [String: String]])
        #expect(auths["r.example"]?["auth"] == Data("AWS:pw".utf8).base64EncodedString())
        #expect(auths["ghcr.io"]?["auth"] == "Z2g6eA==")
        #expect(document["psFormat"] as? String == "table {{.ID}}")
        #expect(try FileManager.default.attributesOfItem(atPath: real)[.posixPermissions] as? Int == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: home.path + "/.docker") == ["config.json"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dotfiles.path).sorted() == ["current.json", "docker-config.json"])
    }

    /// A link whose target does not exist yet: the file is created there, 0600.
    @Test func danglingLinkGetsItsTargetCreated() throws {
        let directory = TemporaryDirectory()
        let link = directory.path + "/config.json"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "store/config.json")
        try FileManager.default.createDirectory(atPath: directory.path + "/store", withIntermediateDirectories: true)
        _ = try DockerConfigFile(path: link).merge(logins: [("r.example", "AWS", "pw")])
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "store/config.json")
        let target = directory.path + "/store/config.json"
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains(Data("AWS:pw".utf8).base64EncodedString()))
        #expect(try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int == 0o600)
    }

    @Test func linkLoopIsAnErrorNotAHang() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/a", withDestinationPath: "b")
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/b", withDestinationPath: "a")
        #expect(throws: ECRLoginError.self) { try DockerConfigFile(path: directory.path + "/a").merge(logins: [("r", "AWS", "pw")]) }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: directory.path + "/a") == "b")
    }

    /// docker uses an entry's identity token (or registry token) before its `auth`: a stale one must go with the
    /// login it belonged to. Other fields of the entry, other entries and other keys stay.
    @Test func replacedLoginLosesItsStaleTokens() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/config.json"
        try #"""
        {"auths":{"r.example":{"auth":"b2xkOm9sZA==","identitytoken":"stale-refresh-token","registrytoken":"stale-bearer",
        "username":"old","password":"old","email":"me@example.com"},"other.example":{"identitytoken":"kept-token"}},
        "credsStore":""}
        """#.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try DockerConfigFile(path: path).merge(logins: [("r.example", "AWS", "pw")])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let auths = try #require(document["auths"] as? [String: [String: String]])
        #expect(auths["r.example"] == ["auth": Data("AWS:pw".utf8).base64EncodedString(), "email": "me@example.com"])
        #expect(auths["other.example"] == ["identitytoken": "kept-token"], "another registry's login is not ecrpush's to touch")
        #expect(document["credsStore"] as? String == "")
        #expect(!(try String(contentsOfFile: path, encoding: .utf8)).contains("stale"))
    }

    @Test func malformedFileIsNotOverwritten() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/config.json"
        try "{not json".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ECRLoginError.self) { try DockerConfigFile(path: path).merge(logins: [("r", "AWS", "pw")]) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{not json")
    }

    @Test func defaultPath() {
        #expect(DockerConfigFile.defaultPath(environment: ["DOCKER_CONFIG": "/c"], homeDirectory: "/h") == "/c/config.json")
        #expect(DockerConfigFile.defaultPath(environment: [:], homeDirectory: "/h") == "/h/.docker/config.json")
    }
}
