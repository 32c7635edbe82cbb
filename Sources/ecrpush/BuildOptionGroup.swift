import ArgumentParser
import DockerEngine
import Foundation

/// The `docker build` flags ecrpush understands.
struct BuildOptionGroup: ParsableArguments {
    @Argument(help: "Build context directory.")
    var context: String = "."

    @Option(name: [.customShort("f"), .long], help: "Dockerfile (default: <context>/Dockerfile); may be outside the context.")
    var file: String?

    @Option(name: .customLong("build-arg"), help: ArgumentHelp("Build-time variable (repeatable).", valueName: "key=value"))
    var buildArgs: [String] = []

    @Option(name: .customLong("label"), help: ArgumentHelp("Image label (repeatable).", valueName: "key=value"))
    var labels: [String] = []

    @Option(help: "Build stage to stop at.")
    var target: String?

    @Option(help: "Target platform, e.g. linux/amd64.")
    var platform: String?

    @Flag(name: .customLong("no-cache"), help: "Do not use the build cache.")
    var noCache = false

    @Flag(help: "Always try to pull newer base images.")
    var pull = false

    func validate() throws {
        _ = try keyValues(buildArgs, flag: "--build-arg")
        _ = try keyValues(labels, flag: "--label")
    }

    var buildContext: BuildContext {
        BuildContext(directory: context, dockerfile: file)
    }

    func buildOptions(extraTags: [String] = []) throws -> BuildOptions {
        var options = BuildOptions()
        options.tags = extraTags
        options.buildArgs = try keyValues(buildArgs, flag: "--build-arg")
        options.labels = try keyValues(labels, flag: "--label")
        options.target = target
        options.platform = platform
        options.noCache = noCache
        options.pull = pull
        return options
    }

    /// `KEY=VALUE` pairs; a bare `KEY` takes its value from the environment, as docker does.
    private func keyValues(_ items: [String], flag: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for item in items {
            if let equals = item.firstIndex(of: "=") {
                let key = String(item[..<equals])
                guard !key.isEmpty else { throw ValidationError("\(flag) '\(item)': the key is empty") }
                result[key] = String(item[item.index(after: equals)...])
            } else if let value = ProcessInfo.processInfo.environment[item] {
                result[item] = value
            } else {
                throw ValidationError("\(flag) '\(item)' has no '=' and no environment variable of that name is set")
            }
        }
        return result
    }
}

struct OutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "text (image references on stdout, one per line) or json.")
    var output: Format = .text

    @Flag(name: [.short, .long], help: "No progress or build output on stderr.")
    var quiet = false
}
