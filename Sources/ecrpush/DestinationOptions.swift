import ArgumentParser
import ECR
import ECRLogin
import ECRPushKit
import Foundation

/// Where to push: repository, tags, registry.
struct DestinationOptions: ParsableArguments {
    @Option(
        name: .customLong("repository"),
        help: ArgumentHelp(
            "ECR repository name, e.g. team/app. Repeat it to push one image to several repositories (of every --registry) in one pass.",
            valueName: "repository"))
    var repositories: [String]

    /// The first `--repository`: the destination of a push to one repository.
    var repository: String { repositories[0] }

    /// How many destinations the push has: every `--registry` (or the default one) × every `--repository`.
    var destinationCount: Int { max(registry.count, 1) * repositories.count }

    @Option(name: .customLong("tag"), help: "Image tag (repeatable; default: the short git commit of the context, else latest).")
    var tags: [String] = []

    @Option(name: .customLong("registry-id"), help: "Account id of the registry to push to (default: your own).")
    var registryId: String?

    @Option(
        help: ArgumentHelp(
            "Registry host[:port] to use instead of the token's proxyEndpoint, or an alias: a [registry ALIAS] section of the ecrpush config file "
                + "(its account, region, credentials and registry_endpoint). Repeat it to push one image to several registries in one pass.",
            valueName: "host[:port]|alias"))
    var registry: [String] = []

    @Flag(name: .customLong("create-repository"), help: "Create the repository when it does not exist.")
    var createRepository = false

    @Option(name: .customLong("image-tag-mutability"), help: "For --create-repository: MUTABLE or IMMUTABLE.")
    var imageTagMutability: String?

    @Flag(name: .customLong("scan-on-push"), help: "For --create-repository: scan images on push.")
    var scanOnPush = false

    func validate() throws {
        guard !repositories.isEmpty else { throw ValidationError("--repository is needed") }
        var seen = Set<String>()
        for repository in repositories {
            if !ECRValidation.isRepositoryName(repository) {
                throw ValidationError(ECRError.invalidRepositoryName(repository).description)
            }
            guard seen.insert(repository).inserted else { throw ValidationError("--repository \(repository) is given twice") }
        }
        for tag in tags where !ECRValidation.isImageTag(tag) {
            throw ValidationError(ECRError.invalidImageTag(tag).description)
        }
        if let registryId { try validateRegistryIds([registryId]) }
        if let imageTagMutability, ImageTagMutability(rawValue: imageTagMutability.uppercased()) == nil {
            throw ValidationError("--image-tag-mutability must be MUTABLE or IMMUTABLE")
        }
        _ = try registryTargets()
    }

    /// The first `--registry` through the config file: nil without `--registry`. A host without a section only
    /// renames the registry (as before aliases); a name that is neither a host nor a section is an error.
    func registryTarget() throws -> RegistryTarget? {
        try registry.first.map { try privateRegistryTarget($0) }
    }

    /// Every `--registry` (a fan-out push when there are several).
    func registryTargets() throws -> [RegistryTarget] {
        var seen = Set<String>()
        return try registry.map { name in
            guard seen.insert(name.lowercased()).inserted else { throw ValidationError("--registry \(name) is given twice") }
            return try privateRegistryTarget(name)
        }
    }

    /// `registry` names the destination's registry (`--registry` as given); the first `--registry` by default.
    /// `repository`: one of the `--repository` (the first by default).
    func destination(
        defaultTagFrom contextDirectory: String?, target: RegistryTarget? = nil, registry: String? = nil, repository: String? = nil
    )
        -> (PushDestination, String?)
    {
        let registry = registry ?? self.registry.first
        let repository = repository ?? self.repository
        var tags = self.tags
        var note: String?
        if tags.isEmpty {
            if let directory = contextDirectory, let commit = GitRevision.shortCommit(containing: directory) {
                tags = [commit]
                note = "No --tag given: tagging with the git commit \(commit)"
            } else {
                tags = ["latest"]
                note = "No --tag given and no git commit found: tagging 'latest'"
            }
        }
        let creation =
            createRepository
            ? RepositoryCreation(
                tagMutability: imageTagMutability.flatMap { ImageTagMutability(rawValue: $0.uppercased()) },
                scanOnPush: scanOnPush ? true : nil)
            : nil
        // A section's registry_id and registry_endpoint stand in for --registry-id and the host.
        let override = target.map { $0.isKnown ? $0.dockerRegistry : registry } ?? registry
        return (
            PushDestination(
                repository: repository, tags: tags, registryId: registryId ?? target?.registryId,
                registryOverride: override, createRepository: creation), note
        )
    }
}

/// A `--registry` value for a private ECR registry: a host[:port], or a `[registry NAME]` section of ecrpush's
/// config. Anything else (or ECR Public) is a usage error.
func privateRegistryTarget(_ registry: String) throws -> RegistryTarget {
    let profiles: RegistryProfiles
    do {
        profiles = try RegistryProfiles.load(environment: ProcessInfo.processInfo.environment, homeDirectory: homeDirectory())
    } catch {
        throw ValidationError(error.description)
    }
    let target: RegistryTarget
    do {
        target = try RegistryTarget.argument(registry, in: profiles)
    } catch {
        throw ValidationError(error.description)
    }
    if target.isPublic {
        throw ValidationError(
            "--registry \(registry): ecrpush pushes to private ECR registries; ECR Public (public.ecr.aws) is for `ecrpush login --public` and pulls")
    }
    guard target.isKnown || RegistryTarget.looksLikeHost(registry) else {
        throw ValidationError("--registry \(registry) is neither a registry host[:port] nor a [registry \(registry)] section in \(profiles.path)")
    }
    return target
}
