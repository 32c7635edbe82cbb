import ArgumentParser
import ECR
import ECRLogin

/// An image already in ECR, as `tag` and `scan` take it: `REPO:TAG` or `REPO@sha256:…`, optionally after the
/// registry (`123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1`, or an alias's or a host's name, as
/// `--registry` takes it). As in docker, a first path component with a dot or a port is a registry.
struct ImageArgument {
    var registry: String?
    var repository: String
    var image: ECRImageID

    init(parsing text: String) throws {
        var name = Substring(text)
        if let at = name.firstIndex(of: "@") {
            let digest = String(name[name.index(after: at)...])
            guard ECRValidation.isImageDigest(digest) else { throw ValidationError(ECRError.invalidImageDigest(digest).description) }
            image = .digest(digest)
            name = name[..<at]
        } else if let colon = name.lastIndex(of: ":"), !name[colon...].contains("/") {
            let tag = String(name[name.index(after: colon)...])
            guard ECRValidation.isImageTag(tag) else { throw ValidationError(ECRError.invalidImageTag(tag).description) }
            image = .tag(tag)
            name = name[..<colon]
        } else {
            throw ValidationError("\(text): name the image as REPOSITORY:TAG or REPOSITORY@sha256:DIGEST")
        }
        let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2, RegistryTarget.looksLikeHost(String(parts[0])) {
            registry = String(parts[0])
            name = parts[1]
        }
        repository = String(name)
        guard ECRValidation.isRepositoryName(repository) else {
            throw ValidationError(ECRError.invalidRepositoryName(repository).description)
        }
    }
}

/// Where `tag` and `scan` find the image's registry: `--registry-id`, `--registry`, or the registry in the image name.
struct ImageLocationOptions: ParsableArguments {
    @Option(name: .customLong("registry-id"), help: "Account id of the image's registry (default: your own).")
    var registryId: String?

    @Option(
        help: ArgumentHelp(
            "The image's registry, as a host or an alias from the ecrpush config file (its account, region and credentials); the "
                + "image name may also start with it.",
            valueName: "host|alias"))
    var registry: String?

    func validate() throws {
        if let registryId { try validateRegistryIds([registryId]) }
        if let registry { _ = try privateRegistryTarget(registry) }
    }

    /// The registry named by `--registry` or the image, refused when they differ.
    func target(for image: ImageArgument) throws -> RegistryTarget? {
        if let named = image.registry, let registry, RegistryHost.hostAndPort(of: named) != RegistryHost.hostAndPort(of: registry) {
            throw ValidationError("the image names registry \(named) but --registry says \(registry): give one of them")
        }
        return try (image.registry ?? registry).map { try privateRegistryTarget($0) }
    }
}
