import ArgumentParser
import ECR
import ECRLogin
import ECRPushKit
import Foundation
import HTTPTransport
import RegistryClient

/// `ecrpush copy SRC DST`: registry to registry, no Engine (promotion between accounts, regions or registries).
struct CopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy an image from one registry to another, without docker.",
        discussion: """
            Streams every blob from the source registry into the destination (never whole in memory; skipped when the destination \
            has it, mounted when both are in the same registry) and puts the manifests byte for byte, so every digest is kept. A \
            manifest list or OCI index is copied whole (every platform), or one platform's image with --platform. ECR registries (any \
            account or region) are logged in with ecrpush's AWS credentials; other registries with docker's logins for them \
            (credHelpers, credsStore, auths in the docker config), or anonymously.
              ecrpush copy 123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1 210987654321.dkr.ecr.us-east-1.amazonaws.com/team/app
              ecrpush copy docker.io/library/busybox:1.36 123456789012.dkr.ecr.eu-west-1.amazonaws.com/mirror/busybox:1.36
            """)

    @Argument(help: ArgumentHelp("HOST/REPOSITORY:TAG or HOST/REPOSITORY@sha256:DIGEST.", valueName: "source"))
    var source: String

    @Argument(help: ArgumentHelp("HOST/REPOSITORY[:TAG] (without a tag: the source's tag, or by digest only).", valueName: "destination"))
    var destination: String

    @Option(help: ArgumentHelp("Copy only this platform's image of a multi-platform source.", valueName: "os/arch[/variant]"))
    var platform: String?

    @Option(help: "Blobs copied at the same time.")
    var jobs = 4

    @OptionGroup var output: OutputOptions
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        let from = try CopyReference(parsing: source, role: "source")
        let to = try CopyReference(parsing: destination, role: "destination")
        guard from.reference != nil else { throw ValidationError("\(source): name the source as HOST/REPOSITORY:TAG or @sha256:DIGEST") }
        if to.reference?.hasPrefix("sha256:") == true { throw ValidationError("\(destination): a destination takes a tag, not a digest") }
        if let platform, platform.split(separator: "/").count < 2 { throw ValidationError("--platform \(platform): give os/arch, e.g. linux/arm64") }
        guard (1...32).contains(jobs) else { throw ValidationError("--jobs takes 1 to 32") }
    }

    func run() async throws {
        try await Console.run {
            let from = try CopyReference(parsing: source, role: "source")
            let to = try CopyReference(parsing: destination, role: "destination")
            let environment = ProcessInfo.processInfo.environment
            let renderer = ProgressRenderer(quiet: output.quiet)
            let progress = CommandProgress.current
            progress?.show(on: renderer)
            let onEvent: @Sendable (WorkflowEvent) -> Void = { event in
                progress?.record(event)
                renderer.handle(event)
            }
            let registries = registryAccess(environment: environment)
            var copy = ImageCopy(
                source: .init(client: await registries.client(for: from.host, onEvent: onEvent), repository: from.repository),
                destination: .init(client: await registries.client(for: to.host, onEvent: onEvent), repository: to.repository),
                platform: platform)
            copy.jobs = jobs
            let reference = from.reference ?? "latest"
            let tags = to.reference.map { [$0] } ?? (reference.hasPrefix("sha256:") ? [] : [reference])
            let copied = try await copy.copy(reference, tags: tags, onEvent: onEvent)
            switch output.output {
            case .text: for line in copied.stdoutLines { Console.out(line) }
            case .json: Console.out(try JSONOutput.encode(copied))
            }
        }
    }

    /// ECR hosts with this command's AWS credentials (resolved when first needed, in the host's region); others
    /// with docker's logins, or anonymously.
    private func registryAccess(environment: [String: String]) -> SourceRegistries {
        let aws = self.aws
        return SourceRegistries(
            ecrLogin: { host in
                var resolved = try await aws.resolve(http: HTTPClient())
                resolved.context = resolved.context.with(region: host.region)
                let cache = TokenCache.fromEnvironment(environment, homeDirectory: homeDirectory(environment))
                let logins = try await CachedLoginWorkflow.logins(resolved: resolved, registryIds: host.accountId.map { [$0] } ?? [], cache: cache)
                guard let login = logins.first else { throw ECRLoginError.noAuthorizationData }
                return login
            },
            dockerConfig: DockerConfigFile(path: DockerConfigFile.defaultPath(environment: environment, homeDirectory: homeDirectory(environment))),
            environment: environment)
    }
}

/// `HOST[:PORT]/REPOSITORY[:TAG|@sha256:DIGEST]`, the registry always named (a copy has two).
struct CopyReference {
    var host: String
    var repository: String
    /// The tag or digest; nil when none is given.
    var reference: String?

    init(parsing text: String, role: String) throws {
        var name = Substring(text)
        if let at = name.firstIndex(of: "@") {
            let digest = String(name[name.index(after: at)...])
            guard ECRValidation.isImageDigest(digest) else { throw ValidationError("\(text): \(ECRError.invalidImageDigest(digest).description)") }
            reference = digest
            name = name[..<at]
        } else if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") {
            let tag = String(name[name.index(after: colon)...])
            guard ECRValidation.isImageTag(tag) else { throw ValidationError("\(text): \(ECRError.invalidImageTag(tag).description)") }
            reference = tag
            name = name[..<colon]
        }
        let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, RegistryTarget.looksLikeHost(parts[0]) || parts[0] == "localhost" else {
            throw ValidationError("\(text): name the \(role) with its registry, as HOST/REPOSITORY (e.g. docker.io/library/busybox:1.36)")
        }
        host = parts[0]
        repository = parts[1]
        guard ECRValidation.isRepositoryName(repository) else {
            throw ValidationError("\(text): \(ECRError.invalidRepositoryName(repository).description)")
        }
    }
}
