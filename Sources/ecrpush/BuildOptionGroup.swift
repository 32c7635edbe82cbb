import ArgumentParser
import BuildKitSession
import DockerEngine
import ECRPushKit
import Foundation
import ImageExport

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

    @Option(
        help: ArgumentHelp(
            "Target platform, e.g. linux/amd64. build-and-push takes a comma-separated list (linux/amd64,linux/arm64): one build per "
                + "platform, each image pushed by digest, and an image index under the tags.",
            valueName: "os/arch[/variant][,…]"))
    var platform: String?

    @Flag(name: .customLong("no-cache"), help: "Do not use the build cache.")
    var noCache = false

    @Flag(help: "Always try to pull newer base images.")
    var pull = false

    @Option(help: ArgumentHelp("auto (BuildKit when the Engine has it, else classic), buildkit or classic.", valueName: "builder"))
    var builder: BuilderChoice = .auto

    @Option(
        help: ArgumentHelp(
            "auto (tty on a terminal, else plain), plain (docker buildx's --progress=plain lines), tty (a live view) or quiet.",
            valueName: "mode"))
    var progress: ProgressMode = .auto

    @Option(
        name: .customLong("secret"),
        help: ArgumentHelp(
            "A secret for RUN --mount=type=secret (BuildKit; repeatable): id=ID,src=FILE or id=ID,env=VARIABLE. Served to the build "
                + "from memory: never in a layer, the history, argv or a temporary file.",
            valueName: "id=ID,src=FILE|env=VAR"))
    var secrets: [String] = []

    @Option(
        name: .customLong("ssh"),
        help: ArgumentHelp(
            "An SSH agent for RUN --mount=type=ssh (BuildKit; repeatable): default or ID (the agent of $SSH_AUTH_SOCK), or "
                + "ID=SOCKET. Forwarded read-only: the build may list keys and sign, never add, remove or lock them.",
            valueName: "default|ID[=SOCKET]"))
    var ssh: [String] = []

    @Option(help: ArgumentHelp("Network for RUN steps: default, none or host.", valueName: "mode"))
    var network: String?

    @Option(
        name: .customLong("cache-from"),
        help: ArgumentHelp("An image whose inline build cache BuildKit may reuse (repeatable), e.g. the last pushed one.", valueName: "image"))
    var cacheFrom: [String] = []

    @Option(
        name: .customLong("cache-to"),
        help: ArgumentHelp("inline: write cache metadata into the image (BUILDKIT_INLINE_CACHE=1) for later --cache-from.", valueName: "inline"))
    var cacheTo: String?

    func validate() throws {
        if builder == .classic && !secrets.isEmpty { throw ValidationError("--secret needs BuildKit: drop --builder classic") }
        if builder == .classic && !ssh.isEmpty { throw ValidationError("--ssh needs BuildKit: drop --builder classic") }
        _ = try platformList()
        _ = try keyValues(buildArgs, flag: "--build-arg")
        _ = try keyValues(labels, flag: "--label")
        _ = try buildSecrets()
        _ = try sshAgents()
        _ = try cacheImages()
        if let cacheTo, !["inline", "type=inline"].contains(cacheTo) {
            throw ValidationError("--cache-to '\(cacheTo)': only inline is supported (the cache travels in the pushed image)")
        }
    }

    /// `--platform a,b,…`: the platforms of a multi-platform build, each `os/arch[/variant]`. Nil for no `--platform` or
    /// a single one, which goes to the Engine as it is (as before lists).
    func platformList() throws -> [ImagePlatform]? {
        guard let platform, platform.contains(",") else { return nil }
        do {
            return try ImagePlatform.list(platform)
        } catch {
            throw ValidationError("--platform \(error.description)")
        }
    }

    /// `--secret` in docker's syntax: comma-separated `id=`, `src=`/`source=`, `env=`, `type=file|env`.
    func buildSecrets() throws -> [BuildSecret] {
        var seen = Set<String>()
        return try secrets.map { spec in
            var fields: [String: String] = [:]
            for part in spec.split(separator: ",", omittingEmptySubsequences: false) {
                guard let equals = part.firstIndex(of: "="), !part[..<equals].isEmpty else {
                    throw ValidationError("--secret '\(spec)': expected key=value fields (id=ID,src=FILE or id=ID,env=VARIABLE)")
                }
                let key = part[..<equals].lowercased()
                guard ["id", "src", "source", "env", "type"].contains(key) else {
                    throw ValidationError("--secret '\(spec)': unknown field '\(key)' (id, src, env or type)")
                }
                fields[key == "source" ? "src" : key] = String(part[part.index(after: equals)...])
            }
            let type = fields["type"] ?? (fields["env"] != nil ? "env" : "file")
            guard let id = fields["id"] ?? (type == "env" ? fields["env"] : fields["src"].map { ($0 as NSString).lastPathComponent }), !id.isEmpty
            else { throw ValidationError("--secret '\(spec)': no id") }
            guard seen.insert(id).inserted else { throw ValidationError("--secret: id '\(id)' is given twice") }
            switch type {
            case "file":
                guard let path = fields["src"], !path.isEmpty else { throw ValidationError("--secret '\(spec)': no src=FILE") }
                return BuildSecret(id: id, source: .file(path))
            case "env":
                return BuildSecret(id: id, source: .environment(fields["env"] ?? id))
            default:
                throw ValidationError("--secret '\(spec)': type must be file or env")
            }
        }
    }

    /// `--ssh` in docker's syntax: `ID` alone (`default` is what a mount without `id=` asks for) forwards the agent of
    /// `$SSH_AUTH_SOCK`; `ID=SOCKET` another agent. docker also takes key files; ecrpush forwards agents only, so a
    /// key stays in the agent the user loaded it into.
    func sshAgents(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [SSHAgent] {
        let ids = ssh.map { $0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0] }
        if let twice = ids.first(where: { id in ids.filter { $0 == id }.count > 1 }) {
            throw ValidationError("--ssh: id '\(twice)' is given twice")
        }
        return try ssh.map { spec in
            let parts = spec.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let id = parts[0]
            guard !id.isEmpty, !id.contains(",") else { throw ValidationError("--ssh '\(spec)': expected default, ID or ID=SOCKET") }
            let path: String
            if parts.count == 2 {
                guard !parts[1].isEmpty, !parts[1].contains(",") else {
                    throw ValidationError("--ssh '\(spec)': one agent socket per id (ID=SOCKET)")
                }
                path = parts[1]
            } else {
                guard let socket = environment["SSH_AUTH_SOCK"], !socket.isEmpty else {
                    throw ValidationError(
                        "--ssh \(id): SSH_AUTH_SOCK is not set; start an agent (eval \"$(ssh-agent)\"; ssh-add KEY) or give its socket (--ssh \(id)=SOCKET)"
                    )
                }
                path = socket
            }
            guard SSHAgent.isSocket(path) else {
                if FileManager.default.fileExists(atPath: path) {
                    throw ValidationError(
                        "--ssh \(id): \(path) is a file, not an agent's socket; ecrpush forwards agents, not key files: load the key into "
                            + "an agent (eval \"$(ssh-agent)\"; ssh-add \(path)) and pass --ssh \(id)")
                }
                throw ValidationError("--ssh \(id): no agent socket at \(path) (is the agent running?)")
            }
            return SSHAgent(id: id, socketPath: path)
        }
    }

    /// `--cache-from IMAGE` or buildx's `type=registry,ref=IMAGE`.
    func cacheImages() throws -> [String] {
        try cacheFrom.map { value in
            guard value.contains("=") else { return value }
            var fields: [String: String] = [:]
            for part in value.split(separator: ",") {
                let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { fields[pair[0]] = pair[1] }
            }
            guard fields["type"] ?? "registry" == "registry", let ref = fields["ref"] else {
                throw ValidationError("--cache-from '\(value)': an image, or type=registry,ref=IMAGE")
            }
            return ref
        }
    }

    /// Secrets, SSH agents, and registry logins for what the build pulls (`known`: logins this command already has a way to get).
    func buildKitSettings(known: [String: @Sendable () async throws -> RegistryCredential] = [:]) throws -> BuildKitSettings {
        let environment = ProcessInfo.processInfo.environment
        let logins = SessionLogins(known: known, environment: environment, homeDirectory: homeDirectory(environment))
        return BuildKitSettings(secrets: try buildSecrets(), credentials: logins.provider, sshAgents: try sshAgents(environment: environment))
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
        options.networkMode = network
        options.cacheFrom = try cacheImages()
        // BuildKit's inline cache: the image's config records which layers came from which steps.
        if cacheTo != nil { options.buildArgs["BUILDKIT_INLINE_CACHE"] = "1" }
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

/// How build progress is shown (`--progress`).
enum ProgressMode: String, ExpressibleByArgument, CaseIterable {
    case auto, plain, tty, quiet

    /// Whether progress is a live view redrawn in place.
    var live: Bool {
        switch self {
        case .tty: return true
        case .plain, .quiet: return false
        case .auto: return Console.stderrIsTTY
        }
    }
}

extension BuilderChoice: ExpressibleByArgument {}

struct OutputOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "text (image references on stdout, one per line) or json.")
    var output: Format = .text

    @Flag(name: [.short, .long], help: "No progress or build output on stderr.")
    var quiet = false
}
