import Foundation
import TestWorld

#if canImport(Glibc)
import Glibc
#endif

/// Builds directory trees for tests with exact modes, symlinks and modification times.
struct FileTree {
    let root: String

    init(_ root: String) {
        self.root = root
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    @discardableResult
    func file(_ relative: String, _ contents: [UInt8], mode: mode_t = 0o644, mtime: Int? = nil) throws -> String {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: full, contents: Data(contents)) else { throw TreeError("create \(full)") }
        guard chmod(full, mode) == 0 else { throw TreeError("chmod \(full)") }
        if let mtime { try setModificationTime(relative, mtime) }
        return full
    }

    @discardableResult
    func file(_ relative: String, _ text: String, mode: mode_t = 0o644, mtime: Int? = nil) throws -> String {
        try file(relative, Array(text.utf8), mode: mode, mtime: mtime)
    }

    func directory(_ relative: String, mode: mode_t = 0o755, mtime: Int? = nil) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
        guard chmod(full, mode) == 0 else { throw TreeError("chmod \(full)") }
        if let mtime { try setModificationTime(relative, mtime) }
    }

    func symlink(_ relative: String, to target: String) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard Glibc.symlink(target, full) == 0 else { throw TreeError("symlink \(full)") }
    }

    func setModificationTime(_ relative: String, _ seconds: Int) throws {
        var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
        guard utimensat(AT_FDCWD, path(relative), &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw TreeError("utimensat \(relative)") }
    }
}

struct TreeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct LinkInfo: Equatable {
    var isDirectory: Bool
    var isSymlink: Bool
    var mode: UInt32
    var mtime: Int
}

func linkInfo(_ path: String) throws -> LinkInfo {
    var info = stat()
    guard lstat(path, &info) == 0 else { throw TreeError("lstat \(path): \(String(cString: strerror(errno)))") }
    let format = info.st_mode & S_IFMT
    return LinkInfo(
        isDirectory: format == S_IFDIR, isSymlink: format == S_IFLNK, mode: UInt32(info.st_mode) & 0o7777,
        mtime: Int(info.st_mtim.tv_sec))
}

/// Runs a command and fails the test with its output when it does not exit 0.
func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> String {
    let result = try await runProcess(executable, arguments, environment: environment)
    guard result.status == 0 else {
        throw TreeError("\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.combinedText)")
    }
    return result.stdoutText
}
