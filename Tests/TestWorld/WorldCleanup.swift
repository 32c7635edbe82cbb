import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything the world started in this process, so that it is stopped when the process exits.
/// Processes get SIGTERM at exit; directories handed to world.sh also have a watchdog (WORLD_OWNER_PID)
/// that runs `world.sh stop DIR` once this process is gone, even after a crash.
enum WorldCleanup {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var pids: Set<Int32> = []
    nonisolated(unsafe) private static var directories: Set<String> = []
    nonisolated(unsafe) private static var scratch: Set<String> = []

    private static let registerAtExit: Void = {
        atexit { WorldCleanup.stopEverything() }
    }()

    static func track(pid: Int32) {
        _ = registerAtExit
        lock.withLock { _ = pids.insert(pid) }
    }

    static func untrack(pid: Int32) {
        lock.withLock { _ = pids.remove(pid) }
    }

    /// A world.sh directory: at exit, every pid recorded in DIR/pids gets SIGTERM.
    static func track(directory: String) {
        _ = registerAtExit
        lock.withLock { _ = directories.insert(directory) }
    }

    static func untrack(directory: String) {
        lock.withLock { _ = directories.remove(directory) }
    }

    /// A directory of a service this process started itself (not through world.sh): removed at exit, after the
    /// service got its SIGTERM, unless `forget(scratch:)` said it is gone already.
    static func track(scratch directory: String) {
        _ = registerAtExit
        lock.withLock { _ = scratch.insert(directory) }
    }

    static func forget(scratch directory: String) {
        lock.withLock { _ = scratch.remove(directory) }
    }

    /// The environment for world.sh: its watchdog follows this process.
    static var ownerEnvironment: [String: String] { ["WORLD_OWNER_PID": String(getpid())] }

    private static func stopEverything() {
        let (pids, directories, scratch) = lock.withLock { (Self.pids, Self.directories, Self.scratch) }
        for pid in pids { kill(pid, SIGTERM) }
        for directory in scratch { try? FileManager.default.removeItem(atPath: directory) }
        for directory in directories {
            let pidFiles = (try? FileManager.default.contentsOfDirectory(atPath: "\(directory)/pids")) ?? []
            for file in pidFiles where file != "watchdog.pid" {
                guard let text = try? String(contentsOfFile: "\(directory)/pids/\(file)", encoding: .utf8),
                    let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
                else { continue }
                kill(pid, SIGTERM)
            }
        }
    }
}
