import Foundation

/// The default image tag: the short commit of the git checkout holding the build context.
package enum GitRevision {
    /// Reads `.git/HEAD` (and the ref it names, loose or packed) without running git, walking up from `directory`.
    package static func shortCommit(containing directory: String, length: Int = 7) -> String? {
        var current = URL(fileURLWithPath: directory).standardizedFileURL
        while true {
            let dotGit = current.appendingPathComponent(".git")
            if let gitDirectory = resolveGitDirectory(dotGit), let commit = headCommit(gitDirectory: gitDirectory) {
                return String(commit.prefix(length))
            }
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { return nil }
            current = parent
        }
    }

    /// `.git` is a directory, or a file `gitdir: <path>` (worktrees, submodules).
    static func resolveGitDirectory(_ dotGit: URL) -> URL? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return dotGit }
        guard let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir:") else { return nil }
        let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
        return URL(fileURLWithPath: path, relativeTo: dotGit.deletingLastPathComponent()).standardizedFileURL
    }

    static func headCommit(gitDirectory: URL) -> String? {
        guard
            let head = try? String(contentsOf: gitDirectory.appendingPathComponent("HEAD"), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        else { return nil }
        guard head.hasPrefix("ref:") else { return isCommitId(head) ? head : nil }
        let ref = head.dropFirst(4).trimmingCharacters(in: .whitespaces)
        // Worktrees keep refs in the common directory.
        var directories = [gitDirectory]
        if let common = try? String(contentsOf: gitDirectory.appendingPathComponent("commondir"), encoding: .utf8) {
            directories.append(
                URL(
                    fileURLWithPath: common.trimmingCharacters(in: .whitespacesAndNewlines),
                    relativeTo: gitDirectory
                ).standardizedFileURL)
        }
        for directory in directories {
            if let loose = try? String(contentsOf: directory.appendingPathComponent(ref), encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines), isCommitId(loose)
            {
                return loose
            }
            if let packed = try? String(contentsOf: directory.appendingPathComponent("packed-refs"), encoding: .utf8) {
                for line in packed.split(separator: "\n") where line.hasSuffix(" " + ref) {
                    let commit = String(line.prefix { $0 != " " })
                    if isCommitId(commit) { return commit }
                }
            }
        }
        return nil  // an unborn branch has no commit yet
    }

    static func isCommitId(_ text: String) -> Bool {
        (text.count == 40 || text.count == 64) && text.allSatisfy(\.isHexDigit)
    }
}
