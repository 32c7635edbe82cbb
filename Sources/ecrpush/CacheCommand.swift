import ArgumentParser
import ECRLogin
import ECRPushKit
import Foundation

/// `ecrpush cache clear`: forgets every cached registry login and every remembered pushed blob.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Manage the registry login and pushed-blob caches ($XDG_CACHE_HOME/ecrpush, default ~/.cache/ecrpush).",
        subcommands: [Clear.self])

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "clear", abstract: "Remove every cached registry login and what the blob cache remembers of earlier pushes.")

        func run() throws {
            let directory = TokenCache.defaultDirectory(
                environment: ProcessInfo.processInfo.environment,
                homeDirectory: homeDirectory())
            do {
                let removed = try TokenCache(directory: directory).clear()
                let registries = try BlobDigestCache(directory: directory + "/blobs").clear()
                Console.err(
                    "Removed \(removed) cached login\(removed == 1 ? "" : "s") and the pushed blobs of \(registries) "
                        + "registr\(registries == 1 ? "y" : "ies") from \(directory)")
            } catch {
                Console.err("ecrpush: error: \(String(describing: error))")
                throw ExitCode.failure
            }
        }
    }
}
