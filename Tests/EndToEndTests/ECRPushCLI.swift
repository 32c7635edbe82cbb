import Foundation
import TestWorld

/// Runs the built `ecrpush` binary the way users do, with a clean environment (nothing of the host's AWS or
/// docker settings leaks in) plus what the test gives.
enum ECRPushCLI {
    /// `swift build --build-tests` puts the executable beside the test bundle.
    static var binary: String {
        let bundleDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDirectory, bundleDirectory.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("ecrpush").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return Repo.root.appendingPathComponent(".build/debug/ecrpush").path
    }

    static func run(
        _ arguments: [String], environment: [String: String], stdin: Data? = nil,
        currentDirectory: URL? = nil
    ) async throws -> ProcessResult {
        let (merged, isolation) = isolatedEnvironment(environment)
        // runProcess merges over the test process's environment: blank out what we removed.
        var final = merged
        for name in ProcessInfo.processInfo.environment.keys where merged[name] == nil { final[name] = "" }
        defer { try? FileManager.default.removeItem(atPath: isolation) }
        return try await runProcess(binary, arguments, environment: final, stdin: stdin, currentDirectory: currentDirectory)
    }

    /// The whole environment ecrpush runs with (the test's `environment` over a clean one), and the directory
    /// holding its private cache and config, for the caller to remove.
    static func isolatedEnvironment(_ environment: [String: String]) -> (environment: [String: String], isolation: String) {
        var clean: [String: String] = [:]
        for (name, value) in ProcessInfo.processInfo.environment
        where !name.hasPrefix("AWS_") && !name.hasPrefix("DOCKER_") && name != "GITHUB_OUTPUT" {
            clean[name] = value
        }
        // An empty home: no ~/.aws or ~/.docker of the machine running the tests.
        clean["HOME"] = NSTemporaryDirectory() + "ecrpush-empty-home"
        clean["AWS_EC2_METADATA_DISABLED"] = "true"
        clean["AWS_CONFIG_FILE"] = "/dev/null"
        clean["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        clean["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"
        // A fresh token cache and ecrpush config per run: no login leaks from one test (or machine) to another.
        // Tests of the cache pass their own XDG_CACHE_HOME.
        let isolation = NSTemporaryDirectory() + "ecrpush-cli-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        clean["XDG_CACHE_HOME"] = isolation + "/cache"
        clean["XDG_CONFIG_HOME"] = isolation + "/config"
        return (clean.merging(environment) { $1 }, isolation)
    }
}
