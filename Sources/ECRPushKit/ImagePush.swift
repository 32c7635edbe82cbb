import DockerEngine
import ECR
import ECRLogin
import Foundation
import HTTPTransport
import ImageExport
import RegistryClient

/// One push, whatever the transport: the registry login (renewed when a long build outlived it), the repository
/// (created when asked), the immutable-tag check before anything is built, the image (built or given), then the
/// transport: the Engine's push (`daemon`), ecrpush's over the distribution API (`registry`) or ECR's API
/// (`ecr-api`), or `auto` choosing between the first two per push (`TransportEstimate`). The executable only
/// gathers options and renders what this reports.
package struct ImagePush: Sendable {
    package enum Transport: String, Sendable, CaseIterable {
        case auto, daemon, registry
        case ecrAPI = "ecr-api"
    }

    /// An image every tag already names, accepted by `--skip-existing`: nothing built or pushed.
    package struct Outcome: Sendable {
        package var pushed: PushedImage
        package var repository: Repository
        package var alreadyPushed: Bool
    }

    /// Connections to the registry opened while the login is made: as many as the requests an everyday push makes
    /// side by side once it has the login (the base's layers checked, the config's check and upload session, a
    /// first layer's upload session). An idle one costs the registry a socket until the push ends.
    static let connectionsAhead = 6

    package var workflow: PushWorkflow
    package var transport: Transport
    package var settings: ExportSettings
    /// The region of the ECR client, naming the registry of an `ecr-api` push that has no other name for it.
    package var region: String
    package var http: HTTPClient
    package var retryPolicy: RegistryRetryPolicy
    /// How base images in other registries are read (nil: only bases in the destination registry are reused).
    package var sources: SourceRegistries?
    /// `--skip-existing`: an immutable repository whose tags already name an image is success, not an error.
    package var skipExisting = false
    /// `push`: the local image, looked at before the push so that an immutable tag holding another image fails early.
    package var existingLocalImage: String?

    package init(
        workflow: PushWorkflow, transport: Transport, settings: ExportSettings, region: String, http: HTTPClient = HTTPClient(),
        retryPolicy: RegistryRetryPolicy = RegistryRetryPolicy()
    ) {
        self.workflow = workflow
        self.transport = transport
        self.settings = settings
        self.region = region
        self.http = http
        self.retryPolicy = retryPolicy
    }

    /// `produceImage` gets the registry host the image's tags should name and returns the local image to push.
    package func run(
        _ destination: PushDestination, produceImage: (_ registry: String) async throws -> String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> Outcome {
        // `push`'s image, asked of the Engine first: a missing one is said before whatever AWS answers, and before
        // a repository is created.
        async let pendingInspection = inspectExistingImage()
        // A repository created for a build that then fails is removed again.
        let created = CreatedRepositories()
        if transport == .ecrAPI {
            let inspected = try await pendingInspection
            // No registry login at all: the host only names the result. The repository's look-up (after the AWS
            // credentials) is this transport's login: the ancestor's candidates come from the Engine meanwhile (the
            // export is asked ahead unless the Engine's push through the relay may suit), and a base in another
            // registry has its manifest read beside it.
            let fallback = destination.registryOverride ?? "\(destination.registryId ?? "registry").dkr.ecr.\(region).amazonaws.com"
            async let pendingRepository = workflow.ensureRepository(destination, registry: fallback, created: created, onEvent: onEvent)
            let candidates = await gatherAncestorCandidates()
            let ahead = await startExportAhead(destination, inspected: inspected, candidates: candidates)
            defer { ahead?.cancel() }
            let sourceAhead = startSourceBaseAhead(destination, inspected: inspected, candidates: candidates, onEvent: onEvent)
            defer { sourceAhead?.cancel() }
            let repository = try await pendingRepository
            let registry = destination.registryOverride ?? repository.registryHost ?? fallback
            if let existing = try await existingImage(
                destination, repository: repository, registry: registry, inspected: inspected, onEvent: onEvent)
            {
                return Outcome(pushed: existing, repository: repository, alreadyPushed: true)
            }
            let localImage = try await created.removingOnFailure(of: { try await produceImage(registry) }, onEvent: onEvent)
            var push = ECRAPIPush(ecr: workflow.ecr, docker: workflow.docker, settings: settings)
            push.sources = sources
            push.exportAhead = ahead
            (push.candidates, push.sourceAhead) = (candidates, sourceAhead)
            let pushed = try await push.push(
                localImage: localImage, inspected: inspected, destination: destination, registry: registry, onEvent: onEvent)
            return Outcome(pushed: pushed, repository: repository, alreadyPushed: false)
        }
        // The token's proxyEndpoint (or --registry), with the token's basic auth, for the Engine or for ecrpush;
        // the repository looked up meanwhile (two round trips at once: an everyday push is a fraction of a second),
        // and, for an image that exists already (`push`), the image and the local images its ancestor is chosen
        // among, from the Engine, which the login does not need.
        async let pendingLogin = workflow.login(for: destination)
        // Where the registry is known before the login (`--registry`), its connections are opened meanwhile.
        let connectionsAhead = destination.registryOverride.map { registry in
            RegistryClient(baseURL: registry, credentials: nil, http: http).openConnections(Self.connectionsAhead)
        }
        async let pendingLookup = workflow.ecr.findRepository(destination.repository, registryId: destination.registryId)
        async let pendingCandidates = gatherAncestorCandidates()
        // The Engine's push through the relay, started now where it may be chosen: its listener and the image's name
        // for it are made while the Engine describes the image (an image named by its ID: once it has) and the ancestor
        // is looked for, which says whether the relay suits the push.
        var relayAhead = startRelayAhead(destination, inspected: nil, onEvent: onEvent)
        var inspected: ImageInspect?
        do {
            inspected = try await pendingInspection
        } catch {
            await relayAhead?.abandon()
            throw error
        }
        if relayAhead == nil, let inspected { relayAhead = startRelayAhead(destination, inspected: inspected, onEvent: onEvent) }
        // `push`'s tags for the Engine, made meanwhile where the registry's name is known already.
        var tagsAhead = destination.registryOverride.flatMap { startTagsAhead(destination, registry: $0, inspected: inspected) }
        // The local images its ancestor is chosen among come from the Engine, sooner than the login.
        let candidates = await pendingCandidates
        let exportAhead = await startExportAhead(destination, inspected: inspected, candidates: candidates, connections: connectionsAhead)
        // Taken by ecrpush's push; ended on every other way out (the Engine's push, an image already there, a failure).
        defer { exportAhead?.cancel() }
        let sourceAhead = startSourceBaseAhead(destination, inspected: inspected, candidates: candidates, onEvent: onEvent)
        defer { sourceAhead?.cancel() }
        // The Engine asked to push through the relay where it suits: what it asks of the registry waits for the choice,
        // and it is given up on every other way out.
        relayAhead = await confirmRelayAhead(relayAhead, destination, inspected: inspected, exportAhead: exportAhead, candidates: candidates)
        var enginePushed = false
        do {
            var login = try await pendingLogin
            if tagsAhead == nil { tagsAhead = startTagsAhead(destination, registry: login.registry, inspected: inspected) }
            let repository = try await workflow.ensureRepository(
                destination, registry: login.registry, found: try await pendingLookup, created: created, onEvent: onEvent)
            if let existing = try await existingImage(
                destination, repository: repository, registry: login.registry, inspected: inspected, onEvent: onEvent)
            {
                await tagsAhead?.undo()
                await relayAhead?.abandon()
                return Outcome(pushed: existing, repository: repository, alreadyPushed: true)
            }
            let localImage = try await created.removingOnFailure(of: { try await produceImage(login.registry) }, onEvent: onEvent)
            // A long build can outlive the token: renewed when little of it is left.
            if let expiresAt = login.expiresAt, expiresAt.timeIntervalSince(workflow.now()) < workflow.tokenRenewalMargin {
                login = try await workflow.login(for: destination)
            }
            let workflow = self.workflow
            var registryPush = RegistryPush(
                login: login, endpoint: destination.registryOverride, docker: workflow.docker, settings: settings, http: http,
                retryPolicy: retryPolicy, freshLogin: { try await workflow.login(for: destination) })
            registryPush.sources = sources
            registryPush.exportAhead = exportAhead
            registryPush.sourceAhead = sourceAhead
            // The relay suits few new bytes, so its path is the likely choice: the new layers the Engine compressed go
            // up while the choice is weighed (it waits for the destination's answers about the base).
            let relayUploads = relayAhead.map { relayAhead in
                let uploads = registryPush.relayUploads(
                    to: destination.repository, registryName: login.registry, configDigest: inspected?.id, onEvent: onEvent)
                relayAhead.openUploads(to: uploads)
                return uploads
            }
            var path: TransportEstimate.Path = transport == .daemon ? .daemon : .registry
            var estimate: TransportEstimate?
            if transport == .auto {
                let chosen = try await registryPush.estimate(
                    localImage: localImage, inspected: inspected, registryName: login.registry, repository: destination.repository,
                    candidates: candidates, onEvent: onEvent)
                onEvent(.info(chosen.description))
                path = chosen.path
                estimate = chosen
            }
            // A base copy left running beside the push ends with it, whatever happens.
            defer { estimate?.pendingCopy?.task.cancel() }
            let pushed: PushedImage
            switch path {
            case .daemon:
                exportAhead?.cancel()  // now: the Engine need not write the image out beside its own push
                let image = if let inspected { inspected } else { try await workflow.docker.requireImage(localImage) }
                try await workflow.checkImmutableTags(destination, repository: repository, localImage: image, registry: login.registry)
                if let relayed = try await registryPush.pushThroughRelay(
                    image: image, destination: destination, registryName: login.registry, estimate: estimate, candidates: candidates,
                    ahead: relayAhead, uploads: relayUploads, onEvent: onEvent)
                {
                    await tagsAhead?.undo()  // the relay's push needs no tag for the registry
                    pushed = relayed
                    break
                }
                inspected = if let tagsAhead { await tagsAhead.applied(to: image) } else { image }
                enginePushed = true
                // The relay's attempt named the destination already, in the line the Engine now sends again.
                let named = registryPush.relayApplies(to: image)
                pushed = try await workflow.push(
                    localImage: localImage, inspected: inspected, destination: destination, repository: repository, login: login
                ) { event in
                    if named, case .push(let push) = event, case .other(let text)? = push.status, text.hasPrefix("The push refers to repository [") {
                        return
                    }
                    onEvent(event)
                }
            case .registry:
                await tagsAhead?.undo()
                await relayAhead?.abandon()
                pushed = try await registryPush.push(
                    localImage: localImage, inspected: inspected, destination: destination, registryName: login.registry, estimate: estimate,
                    candidates: candidates, onEvent: onEvent)
            }
            return Outcome(pushed: pushed, repository: repository, alreadyPushed: false)
        } catch {
            // The Engine's push keeps its tags, as `docker push` does; nothing else leaves one behind.
            if !enginePushed { await tagsAhead?.undo() }
            await relayAhead?.abandon()
            throw error
        }
    }

    /// The image every tag already names, when `skipExisting` accepts it; throws when an immutable tag holds
    /// another image. Before anything is built or read from the Engine. `inspected`: `push`'s image, looked at before.
    private func existingImage(
        _ destination: PushDestination, repository: Repository, registry: String, inspected: ImageInspect? = nil,
        onEvent: @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage? {
        // Mutable tags: nothing to check, not even the local image.
        guard destination.tags.contains(where: { repository.isTagImmutable($0) }) else { return nil }
        var local: ImmutableTagCheck.LocalImage?
        if let name = existingLocalImage {
            let image = if let inspected { inspected } else { try await workflow.docker.requireImage(name) }
            local = ImmutableTagCheck.LocalImage(id: image.id, repoDigests: image.repoDigests)
        }
        let outcome = try await ImmutableTagCheck(ecr: workflow.ecr).check(
            destination, repository: repository, registry: registry, skipExisting: skipExisting, localImage: local, onEvent: onEvent)
        guard case .alreadyThere(let existing) = outcome else { return nil }
        let what = existingLocalImage == nil ? "nothing built or pushed" : "nothing pushed"
        onEvent(
            .info(
                "\(destination.tags.map { "\(destination.repository):\($0)" }.joined(separator: ", ")) already name \(existing.digest) "
                    + "in a repository with immutable tags: \(what) (--skip-existing)"))
        return existing
    }
}
