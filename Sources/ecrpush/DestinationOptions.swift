import ArgumentParser
import ECR
import ECRPushKit

/// Where to push: repository, tags, registry.
struct DestinationOptions: ParsableArguments {
    @Option(help: "ECR repository name, e.g. team/app.")
    var repository: String

    @Option(name: .customLong("tag"), help: "Image tag (repeatable; default: the short git commit of the context, else latest).")
    var tags: [String] = []

    @Option(name: .customLong("registry-id"), help: "Account id of the registry to push to (default: your own).")
    var registryId: String?

    @Option(help: ArgumentHelp("Registry host[:port] to use instead of the token's proxyEndpoint.", valueName: "host[:port]"))
    var registry: String?

    @Flag(name: .customLong("create-repository"), help: "Create the repository when it does not exist.")
    var createRepository = false

    @Option(name: .customLong("image-tag-mutability"), help: "For --create-repository: MUTABLE or IMMUTABLE.")
    var imageTagMutability: String?

    @Flag(name: .customLong("scan-on-push"), help: "For --create-repository: scan images on push.")
    var scanOnPush = false

    func validate() throws {
        if !ECRValidation.isRepositoryName(repository) {
            throw ValidationError(ECRError.invalidRepositoryName(repository).description)
        }
        for tag in tags where !ECRValidation.isImageTag(tag) {
            throw ValidationError(ECRError.invalidImageTag(tag).description)
        }
        if let registryId { try validateRegistryIds([registryId]) }
        if let imageTagMutability, ImageTagMutability(rawValue: imageTagMutability.uppercased()) == nil {
            throw ValidationError("--image-tag-mutability must be MUTABLE or IMMUTABLE")
        }
        if let registry, registry.contains("/") {
            throw ValidationError("--registry takes a host[:port] without scheme or path, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com")
        }
    }

    func destination(defaultTagFrom contextDirectory: String?) -> (PushDestination, String?) {
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
        let creation = createRepository
            ? RepositoryCreation(tagMutability: imageTagMutability.flatMap { ImageTagMutability(rawValue: $0.uppercased()) },
                                 scanOnPush: scanOnPush ? true : nil)
            : nil
        return (PushDestination(repository: repository, tags: tags, registryId: registryId, registryOverride: registry,
                                createRepository: creation), note)
    }
}
