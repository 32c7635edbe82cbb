#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file calls the build context needs, so names, modes, symlinks and times are seen as they are
/// (without Foundation's symlink following or attribute dictionaries).
enum FileSystem {
    enum FileType: Sendable, Equatable { case regular, directory, symlink, other }

    struct Status: Sendable, Equatable {
        var type: FileType
        var permissions: UInt32
        var size: Int64
        var modificationTime: Int64
    }

    struct Failure: Error, CustomStringConvertible {
        let call: String
        let code: Int32
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    static func linkStatus(_ path: String) throws -> Status {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw Failure(call: "lstat", code: errno) }
        return status(from: info)
    }

    /// Follows symlinks; nil when nothing is there.
    static func status(_ path: String) -> Status? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return status(from: info)
    }

    private static func status(from info: stat) -> Status {
        let format = UInt32(info.st_mode) & UInt32(S_IFMT)
        let type: FileType
        switch format {
        case UInt32(S_IFREG): type = .regular
        case UInt32(S_IFDIR): type = .directory
        case UInt32(S_IFLNK): type = .symlink
        default: type = .other
        }
        #if canImport(Darwin)
        let seconds = Int64(info.st_mtimespec.tv_sec)
        #else
        let seconds = Int64(info.st_mtim.tv_sec)
        #endif
        return Status(type: type, permissions: UInt32(info.st_mode) & 0o7777, size: Int64(info.st_size), modificationTime: seconds)
    }

    /// Entry names of a directory (without "." and ".."), sorted bytewise as Go's filepath.Walk does.
    static func directoryEntries(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw Failure(call: "opendir", code: errno) }
        defer { closedir(directory) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                if errno != 0 { throw Failure(call: "readdir", code: errno) }
                break
            }
            let decoded = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(validatingCString: $0)
                }
            }
            // A name that is not UTF-8 could not be matched against .dockerignore nor reopened faithfully.
            guard let name = decoded else { throw Failure(call: "a file name in this directory is not UTF-8", code: EILSEQ) }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    static func readLink(_ path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { throw Failure(call: "readlink", code: errno) }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The absolute path with every symlink resolved (nil when it does not exist).
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func currentDirectory() -> String {
        guard let cwd = getcwd(nil, 0) else { return "/" }
        defer { free(cwd) }
        return String(cString: cwd)
    }

    static func openForReading(_ path: String) throws -> Int32 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(call: "open", code: errno) }
        return descriptor
    }

    static func canOpenDirectory(_ path: String) throws {
        guard let directory = opendir(path) else { throw Failure(call: "opendir", code: errno) }
        closedir(directory)
    }

    /// Reads up to `buffer.count` bytes, retrying on EINTR; 0 at the end of the file.
    static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Glibc_read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw Failure(call: "read", code: errno)
        }
    }

    static func close(_ descriptor: Int32) {
        _ = Glibc_close(descriptor)
    }

    static func readWholeFile(_ path: String, limit: Int = 16 << 20) throws -> [UInt8] {
        let descriptor = try openForReading(path)
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(descriptor, into: $0) }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            if bytes.count > limit { throw Failure(call: "read", code: EFBIG) }
        }
    }
}

// The module-level POSIX functions, reachable inside `FileSystem` whose own `read`/`close` shadow them.
private func Glibc_read(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

private func Glibc_close(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
