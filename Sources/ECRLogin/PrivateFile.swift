import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Files that hold secrets or state shared between processes (logins, docker config, the blob cache).
package enum PrivateFile {
    /// Why a write failed, in words (the caller wraps it in its own error).
    package struct Failure: Error {
        package let detail: String
    }

    /// Which permissions the replacement gets.
    package enum Permissions {
        /// 0600 whatever the replaced file had: logins and other secrets only ecrpush reads.
        case privateFile
        /// The replaced file's permissions (and owner and group, where allowed), as the docker CLI keeps them
        /// for its config; 0600 for a new file. A file someone made 0644 on purpose stays 0644.
        case keepExisting
    }

    /// Writes `data` to `path` through a 0600 temporary file beside it (`temporaryPrefix` + pid + random),
    /// fsync'd, given its final permissions, and renamed over the target: readers never see half a file, and the
    /// content is never in a file others can read, even briefly. `path` itself is replaced: a symbolic link
    /// there becomes a file (resolve it first with `finalTarget(of:)` to write through it).
    package static func writeAtomically(_ data: Data, to path: String, temporaryPrefix: String, permissions: Permissions) throws(Failure) {
        var existing = stat()
        let replaced = permissions == .keepExisting && stat(path, &existing) == 0 && (existing.st_mode & S_IFMT) == S_IFREG
        let directory = directoryOf(path)
        let temporary = directory + "/\(temporaryPrefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure(detail: "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
        if ok, replaced {
            // The owner first: chown may clear mode bits. Keeping the owner is best effort (only root may give a
            // file away), as in the docker CLI; the mode is not.
            _ = fchown(fd, existing.st_uid, existing.st_gid)
            ok = fchmod(fd, existing.st_mode & 0o777) == 0
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            let detail = "cannot write \(path): \(String(cString: strerror(errno)))"
            unlink(temporary)
            throw Failure(detail: detail)
        }
    }

    /// Where a chain of symbolic links at `path` ends (relative links read from their own directory), as the
    /// docker CLI writes its config through a link a dotfile manager made; `path` itself when it is no link. The
    /// end may not exist yet (a dangling link): the file is then created there.
    package static func finalTarget(of path: String) throws(Failure) -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, buffer.count - 1)
            guard length > 0 else { throw Failure(detail: "cannot read the symbolic link \(current): \(String(cString: strerror(errno)))") }
            let link = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : directoryOf(current) + "/" + link
        }
        throw Failure(detail: "\(path): too many levels of symbolic links")
    }

    /// The directory holding `path`; "." for a bare file name (where NSString would say "").
    package static func directoryOf(_ path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return directory.isEmpty ? "." : directory
    }

    /// Creates `directory` (and missing parents) 0700, and tightens it when it exists with wider permissions.
    package static func prepareDirectory(_ directory: String) throws(Failure) {
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
    package static func clearCache(_ directory: String) throws(Failure) -> Int {
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
