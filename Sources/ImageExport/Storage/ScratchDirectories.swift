import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The export scratch directories under a parent (`$TMPDIR` by default), found by their names with one readdir:
/// those an ecrpush left when it was killed before it could remove them, and this process's own.
package enum ScratchDirectories {
    /// A directory removed because the process that made it is gone.
    package struct Abandoned: Sendable, Equatable {
        package let path: String
        /// The pid of the ecrpush that made it.
        package let pid: Int32
        /// What it held.
        package let bytes: Int64
    }

    /// Removes every scratch directory under `parent` whose maker is certainly gone (see `ProcessOwner`): made by
    /// this user, in this pid namespace, by a process that no longer exists, is a zombie, or whose pid now belongs
    /// to a process started at another time. A directory of a push still running, of another user or pid namespace,
    /// or with a name that says nothing of its maker is left alone. Returns what was removed.
    package static func removeAbandoned(in parent: URL? = nil) -> [Abandoned] {
        var removed: [Abandoned] = []
        for (path, owner) in owned(in: parent) where owner.isAbandoned {
            let bytes = size(of: path)
            guard (try? FileManager.default.removeItem(atPath: path)) != nil else { continue }
            removed.append(Abandoned(path: path, pid: owner.pid, bytes: bytes))
        }
        return removed
    }

    /// Removes this process's own scratch directories under `parent` (after its work was stopped, or when it must
    /// exit at once); returns those still there afterwards.
    package static func removeOwn(in parent: URL? = nil) -> [String] {
        guard let current = ProcessOwner.current else { return [] }
        var left: [String] = []
        for (path, owner) in owned(in: parent) where owner == current {
            if (try? FileManager.default.removeItem(atPath: path)) == nil, FileManager.default.fileExists(atPath: path) {
                left.append(path)
            }
        }
        return left
    }

    /// Scratch directories under `parent` whose names carry an owner, and that are real directories of this user
    /// (never a symbolic link, never someone else's).
    private static func owned(in parent: URL?) -> [(String, ProcessOwner)] {
        let base = (parent ?? FileManager.default.temporaryDirectory).path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { return [] }
        return names.compactMap { name in
            guard let owner = ProcessOwner(directoryName: name) else { return nil }
            let path = base.hasSuffix("/") ? base + name : "\(base)/\(name)"
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR, status.st_uid == geteuid() else { return nil }
            return (path, owner)
        }
    }

    /// Bytes in the files directly inside `path` (scratch directories hold no subdirectories).
    private static func size(of path: String) -> Int64 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.reduce(0) { total, name in
            var status = stat()
            return lstat("\(path)/\(name)", &status) == 0 ? total + Int64(status.st_size) : total
        }
    }
}

extension ProcessOwner {
    /// The owner written in a directory name made by `ScratchDirectory`; nil for any other name (an older
    /// ecrpush's `ecrpush-export.XXXXXX`, or something else altogether).
    init?(directoryName name: String) {
        guard name.hasPrefix(ScratchDirectory.namePrefix) else { return nil }
        let fields = name.dropFirst(ScratchDirectory.namePrefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard fields.count == 2 else { return nil }
        self.init(nameComponent: fields[0])
    }
}
