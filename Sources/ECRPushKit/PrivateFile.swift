import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Files that hold secrets or state shared between processes (logins, docker config, the blob cache).
enum PrivateFile {
    /// Why a write failed, in words (the caller wraps it in its own error).
    struct Failure: Error {
        let detail: String
    }

    /// Writes `data` to `path` through a 0600 temporary file beside it (`temporaryPrefix` + pid + random),
    /// fsync'd and renamed over the target: readers never see half a file, and the content is never in a file
    /// others can read, even briefly.
    static func writeAtomically(_ data: Data, to path: String, temporaryPrefix: String) throws(Failure) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = directory + "/\(temporaryPrefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(detail: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let detail = "cannot write \(path): \(String(cString: strerror(errno)))"
            unlink(temporary)
            throw Failure(detail: detail)
        }
    }

    /// Creates `directory` (and missing parents) 0700, and tightens it when it exists with wider permissions.
    static func prepareDirectory(_ directory: String) throws(Failure) {
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure(detail: "cannot create \(directory): \(error.localizedDescription)")
        }
        chmod(directory, 0o700)
    }

    /// Empties a cache directory of its entries (`*.json`), remembered identities (`*.identity`), lock files and
    /// leftover temporary files; returns how many entries there were. A missing directory is an empty one.
    static func clearCache(_ directory: String) throws(Failure) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var removed = 0
        for name in names
        where name.hasSuffix(".json") || name.hasSuffix(".identity") || name.hasSuffix(".lock")
            || name.hasPrefix(".tmp-")
        {
            guard unlink(directory + "/" + name) == 0 || errno == ENOENT else {
                throw Failure(detail: "cannot remove \(directory)/\(name): \(String(cString: strerror(errno)))")
            }
            if name.hasSuffix(".json") { removed += 1 }
        }
        return removed
    }
}
