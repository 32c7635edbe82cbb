import Foundation
import TestWorld
import Testing

@testable import ECRPushKit

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
