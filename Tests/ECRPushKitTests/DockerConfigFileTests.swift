import Foundation
import TestWorld
import Testing

@testable import ECRPushKit

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
        #expect(throws: ECRPushError.self) { try DockerConfigFile(path: directory.path + "/a").merge(logins: [("r", "AWS", "pw")]) }
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
        #expect(throws: ECRPushError.self) { try DockerConfigFile(path: path).merge(logins: [("r", "AWS", "pw")]) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{not json")
    }

    @Test func defaultPath() {
        #expect(DockerConfigFile.defaultPath(environment: ["DOCKER_CONFIG": "/c"], homeDirectory: "/h") == "/c/config.json")
        #expect(DockerConfigFile.defaultPath(environment: [:], homeDirectory: "/h") == "/h/.docker/config.json")
    }
}

@Suite struct GitRevisionTests {
    @Test func readsLooseAndPackedRefsAndDetachedHeads() throws {
        let directory = TemporaryDirectory()
        let git = directory.path + "/.git"
        try FileManager.default.createDirectory(atPath: git + "/refs/heads", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory.path + "/sub/dir", withIntermediateDirectories: true)
        let commit = String(repeating: "ab12", count: 10)
        try "ref: refs/heads/main\n".write(toFile: git + "/HEAD", atomically: true, encoding: .utf8)
        try "\(commit)\n".write(toFile: git + "/refs/heads/main", atomically: true, encoding: .utf8)
        #expect(GitRevision.shortCommit(containing: directory.path + "/sub/dir") == "ab12ab1")

        try FileManager.default.removeItem(atPath: git + "/refs/heads/main")
        let packed = String(repeating: "cd34", count: 10)
        try "# pack-refs with: peeled\n\(packed) refs/heads/main\n".write(toFile: git + "/packed-refs", atomically: true, encoding: .utf8)
        #expect(GitRevision.shortCommit(containing: directory.path) == "cd34cd3")

        try "\(commit)\n".write(toFile: git + "/HEAD", atomically: true, encoding: .utf8)
        #expect(GitRevision.shortCommit(containing: directory.path) == "ab12ab1")
    }

    @Test func unbornBranchOrNoCheckoutGivesNil() throws {
        let directory = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path + "/.git", withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(toFile: directory.path + "/.git/HEAD", atomically: true, encoding: .utf8)
        #expect(GitRevision.shortCommit(containing: directory.path) == nil)
    }

    @Test func agreesWithGitOnThisCheckout() async throws {
        let result = try await runProcess("git", ["-C", Repo.root.path, "rev-parse", "--short=7", "HEAD"])
        guard result.status == 0 else { return }  // a source tarball without .git
        #expect(GitRevision.shortCommit(containing: Repo.root.path) == result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

@Suite struct PushFailureClassifierTests {
    @Test func explicitDenyNamesTheAction() {
        let message =
            "denied: User: arn:aws:sts::123456789012:assumed-role/ci/s is not authorized to perform: ecr:InitiateLayerUpload on resource: "
            + "arn:aws:ecr:us-east-1:123456789012:repository/app with an explicit deny in a resource-based policy"
        let error = PushFailureClassifier.classify(message: message, repository: "app", tag: "v1", registry: "r")
        guard case ECRPushError.pushDenied(_, let action, _) = error else { Issue.record("\(error)"); return }
        #expect(action == "InitiateLayerUpload")
        #expect("\(error)".contains("repository policy"))
    }

    @Test func immutableTagAndMissingRepository() {
        let immutable = PushFailureClassifier.classify(
            message:
                "tag invalid: The image tag 'v1' already exists in the 'app' repository and cannot be overwritten because the repository is "
                + "immutable.",
            repository: "app", tag: "v1", registry: "r")
        #expect({ if case ECRPushError.imageTagExists = immutable { return true } else { return false } }())
        let missing = PushFailureClassifier.classify(
            message: "name unknown: The repository with name 'app' does not exist in the registry with id '123456789012'",
            repository: "app", tag: "v1", registry: "r")
        #expect({ if case ECRPushError.repositoryMissing = missing { return true } else { return false } }())
    }
}

@Suite struct PushedImageTests {
    @Test func linesAndGitHubOutput() throws {
        let image = PushedImage(registry: "r.example", repository: "team/app", tags: ["v1", "latest"], digest: "sha256:abc")
        #expect(image.stdoutLines == ["r.example/team/app:v1", "r.example/team/app:latest", "r.example/team/app@sha256:abc"])
        let directory = TemporaryDirectory()
        let path = directory.path + "/out"
        _ = FileManager.default.createFile(atPath: path, contents: Data("a=b\n".utf8))
        try image.appendGitHubOutput(path: path)
        #expect(
            try String(contentsOfFile: path, encoding: .utf8)
                == "a=b\nimage=r.example/team/app@sha256:abc\ndigest=sha256:abc\nregistry=r.example\n")
    }
}
