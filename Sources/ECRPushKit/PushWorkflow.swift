import AWSCore
import BuildKitSession
import DockerEngine
import ECR
import ECRLogin
import Foundation
import RegistryClient

/// What the workflow reports while it works; the executable decides how to show it.
package enum WorkflowEvent: Sendable {
    case info(String)
    case build(BuildEvent)
    /// BuildKit's progress (the classic builder's output comes as `.build`).
    case buildKit(BuildKitUpdate)
    /// The build session served a secret or a registry login (never its value).
    case session(SessionEvent)
    case push(PushEvent)
    /// The request that makes `tag` name the image in the registry is about to be sent: from here on, an interrupted
    /// push may have moved the tag.
    case tagging(String)
    /// The registry confirmed `tag`.
    case tagged(String)
}

package struct RepositoryCreation: Sendable {
    package var tagMutability: ImageTagMutability?
    package var scanOnPush: Bool?

    package init(tagMutability: ImageTagMutability? = nil, scanOnPush: Bool? = nil) {
        self.tagMutability = tagMutability
        self.scanOnPush = scanOnPush
    }
}

/// Where an image goes: a repository in an ECR registry, under one or more tags.
package struct PushDestination: Sendable {
    package var repository: String
    package var tags: [String]
    /// Another account's registry (cross-account push); nil for the caller's own.
    package var registryId: String?
    /// Registry host to use instead of the token's proxyEndpoint (VPC endpoints, custom DNS, loopback tests).
    package var registryOverride: String?
    /// Create the repository when it is missing, with these settings; nil makes a missing repository an error.
    package var createRepository: RepositoryCreation?

    package init(
        repository: String, tags: [String], registryId: String? = nil, registryOverride: String? = nil,
        createRepository: RepositoryCreation? = nil
    ) {
        self.repository = repository
        self.tags = tags
        self.registryId = registryId
        self.registryOverride = registryOverride
        self.createRepository = createRepository
    }

    /// Checks names and tags with ECR's rules before any request.
    package func validate() throws {
        try ECRValidation.validateRepositoryName(repository)
        guard !tags.isEmpty else { throw ECRPushError.invalidArgument("at least one tag is needed") }
        for tag in tags { try ECRValidation.validateTag(tag) }
        if let registryId { try ECRValidation.validateRegistryIds([registryId]) }
    }
}

/// The containerise.py chain and more: ECR login, repository check, build, push through the Docker Engine.
package struct PushWorkflow: Sendable {
    package let ecr: ECRClient
    package let docker: DockerClient
    /// A login is renewed before pushing when it has less than this left (a long build can outlive a token).
    package var tokenRenewalMargin: TimeInterval = 30 * 60
    package var now: @Sendable () -> Date = { Date() }

    package init(ecr: ECRClient, docker: DockerClient) {
        self.ecr = ecr
        self.docker = docker
    }

    /// The login for the destination's registry, with the registry host overridden when asked.
    package func login(for destination: PushDestination) async throws -> RegistryLogin {
        let logins = try await LoginWorkflow.logins(ecr: ecr, registryIds: destination.registryId.map { [$0] } ?? [])
        guard var login = logins.first else { throw ECRLoginError.noAuthorizationData }
        if let registry = destination.registryOverride { login.registry = registry }
        return login
    }

    /// Makes sure the repository exists before anything is built or pushed.
    package func ensureRepository(
        _ destination: PushDestination, registry: String, created: CreatedRepositories? = nil,
        onEvent: @Sendable (WorkflowEvent) -> Void
    ) async throws -> Repository {
        try await ensureRepository(
            destination, registry: registry, found: try await ecr.findRepository(destination.repository, registryId: destination.registryId),
            created: created, onEvent: onEvent)
    }

    /// `found`: the repository as DescribeRepositories gave it (nil: missing), looked up while the login was made.
    /// `created`: where a repository created here is recorded, for a failed build to remove.
    package func ensureRepository(
        _ destination: PushDestination, registry: String, found: Repository?, created: CreatedRepositories? = nil,
        onEvent: @Sendable (WorkflowEvent) -> Void
    ) async throws -> Repository {
        if let repository = found { return repository }
        guard let creation = destination.createRepository else {
            throw ECRPushError.repositoryMissing(repository: destination.repository, registry: registry)
        }
        do {
            let repository = try await ecr.createRepository(
                name: destination.repository, registryId: destination.registryId,
                tagMutability: creation.tagMutability, scanOnPush: creation.scanOnPush)
            created?.record(destination, ecr: ecr)
            onEvent(.info("Created repository \(destination.repository)"))
            return repository
        } catch let error as AWSError where error.code == "RepositoryAlreadyExistsException" {
            // Created meanwhile by someone else (a parallel CI job, another destination of this push): use it.
            guard let repository = try await ecr.findRepository(destination.repository, registryId: destination.registryId) else { throw error }
            return repository
        }
    }

    /// On an immutable repository, a tag that already exists must point at this very image, else the push
    /// would fail half-way; said before pushing.
    func checkImmutableTags(
        _ destination: PushDestination, repository: Repository, localImage: ImageInspect,
        registry: String
    ) async throws {
        guard repository.imageTagMutability == ImageTagMutability.immutable.rawValue else { return }
        let localDigests = localImage.repoDigests
        for tag in destination.tags {
            guard
                let existing = try await ecr.digest(
                    forTag: tag, repository: destination.repository,
                    registryId: destination.registryId)
            else { continue }
            if !localDigests.contains(RepositoryLocation(registry: registry, repository: destination.repository).pinned(existing)) {
                throw ECRPushError.imageTagExists(
                    repository: destination.repository, tag: tag,
                    detail: "it points at \(existing)")
            }
        }
    }

    /// Builds `context` tagged for the destination's registry.
    package func build(
        context: BuildContext, options: BuildOptions, destination: PushDestination, registry: String, builder: BuilderChoice = .auto,
        buildKit: BuildKitSettings = BuildKitSettings(), onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> BuildResult {
        var options = options
        let location = RepositoryLocation(registry: registry, repository: destination.repository)
        options.tags += destination.tags.map { location.tagged($0) }
        return try await ImageBuilder(docker: docker).build(
            context: context, options: options, builder: builder, buildKit: buildKit, onEvent: onEvent)
    }

    /// Tags `localImage` for the registry under every destination tag and pushes each with the login. `inspected`:
    /// the Engine's inspection of `localImage`, when the caller made it already (a look-up fewer before the push).
    package func push(
        localImage: String, inspected: ImageInspect? = nil, destination: PushDestination, repository: Repository, login: RegistryLogin,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage {
        var login = login
        if let expiresAt = login.expiresAt, expiresAt.timeIntervalSince(now()) < tokenRenewalMargin {
            onEvent(.info("Registry login expires at \(Timestamps.formatISO8601(expiresAt)); getting a new one"))
            login = try await self.login(for: destination)
        }
        let reference = RepositoryLocation(registry: login.registry, repository: destination.repository).description
        let image = if let inspected { inspected } else { try await docker.requireImage(localImage) }
        try await checkImmutableTags(destination, repository: repository, localImage: image, registry: login.registry)

        let auth = RegistryAuth(username: login.username, password: login.password, serverAddress: login.registry)
        let plainHTTP = RegistryURL.base(for: login.registry).hasPrefix("http://")
        var digest: String?
        for tag in destination.tags {
            // A build names the image for the registry already; a `push` of another name needs the Engine's tag.
            if !image.repoTags.contains("\(reference):\(tag)") { try await docker.tag(source: localImage, repository: reference, tag: tag) }
            onEvent(.info("Pushing \(reference):\(tag)"))
            do {
                // The Engine puts the manifest at the end of its push of the tag.
                onEvent(.tagging(tag))
                let result = try await docker.push(repository: reference, tag: tag, auth: auth, tlsVerify: !plainHTTP) { onEvent(.push($0)) }
                onEvent(.tagged(tag))
                digest = result.digest
            } catch DockerError.pushFailed(let message) {
                throw PushFailureClassifier.classify(
                    message: message, repository: destination.repository, tag: tag,
                    registry: login.registry)
            }
        }
        guard let digest else { throw ECRPushError.invalidArgument("nothing was pushed") }
        return PushedImage(
            registry: login.registry, repository: destination.repository, tags: destination.tags,
            digest: digest)
    }
}
