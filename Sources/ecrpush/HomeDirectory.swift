import Foundation

/// The user's home: `$HOME` first, as the AWS SDKs, the AWS CLI and docker do (CI containers set it, e.g.
/// `/github/home`); the user database only when it is unset. Foundation's NSHomeDirectory() on Linux asks
/// the user database alone, which would put `~/.aws`, the caches and the config somewhere else than every
/// other tool looks.
func homeDirectory(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
    environment["HOME"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? NSHomeDirectory()
}
