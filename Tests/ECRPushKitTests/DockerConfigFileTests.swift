import Foundation
import TestWorld
import Testing

@testable import ECRPushKit

@Suite struct DockerConfigFileTests {
    @Test func mergeKeepsOtherKeysAndWritesPrivately() throws {
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
        #expect(mode == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0 != "config.json" }
        #expect(leftovers.isEmpty)
    }

    @Test func createsDirectoryAndFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/nested/docker/config.json"
        _ = try DockerConfigFile(path: path).merge(logins: [("r.example", "AWS", "pw")])
        #expect(FileManager.default.fileExists(atPath: path))
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
