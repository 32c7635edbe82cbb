import Foundation
import TestWorld
import Testing

@testable import ECRPushKit

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

    /// After a push, the failure says first that the image is pushed: a CI user must not push again to fix it.
    @Test func aFailureAfterAPushSaysThePushSucceeded() {
        let image = PushedImage(registry: "r.example", repository: "team/app", tags: ["v1"], digest: "sha256:abc")
        do {
            try image.appendGitHubOutput(path: "/nonexistent-dir/output")
            Issue.record("appending under a missing directory succeeded")
        } catch {
            #expect(error.description.hasPrefix("the image was pushed: r.example/team/app@sha256:abc"), "\(error)")
            #expect(error.description.contains("Only the step outputs"), "\(error)")
            #expect(error.description.contains("/nonexistent-dir/output: cannot open it for appending: No such file or directory"), "\(error)")
        }
    }
}
