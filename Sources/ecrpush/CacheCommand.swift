import ArgumentParser
import ECRPushKit
import Foundation

/// `ecrpush cache clear`: forgets every cached registry login.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Manage the registry login cache ($XDG_CACHE_HOME/ecrpush, default ~/.cache/ecrpush).",
        subcommands: [Clear.self])

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "clear", abstract: "Remove every cached registry login.")

        func run() throws {
            let directory = TokenCache.defaultDirectory(environment: ProcessInfo.processInfo.environment,
                                                        homeDirectory: NSHomeDirectory())
            do {
                let removed = try TokenCache(directory: directory).clear()
                Console.err("Removed \(removed) cached login\(removed == 1 ? "" : "s") from \(directory)")
            } catch {
                Console.err("ecrpush: error: \(String(describing: error))")
                throw ExitCode.failure
            }
        }
    }
}
