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
    /// ECR's connections opened while the credentials were fetched (`LoginWorkflow.openECRConnections`), once
    /// opened. Where `--registry` does not name the registry before the login, when ECR first answered tells how far
    /// the registry is: ECR's API and its registries are in one region.
    package var ecrConnections: @Sendable () -> ConnectionsAhead? = { nil }

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
        if transport == .ecrAPI {
            let inspected = try await pendingInspection
            // No registry login at all: the host only names the result. The repository's look-up (after the AWS
            // credentials) is this transport's login: the ancestor's candidates come from the Engine meanwhile (the
            // export is asked ahead unless the Engine's push through the relay may suit), and a base in another
            // registry has its manifest read beside it.
            let fallback = destination.registryOverride ?? "\(destination.registryId ?? "registry").dkr.ecr.\(region).amazonaws.com"
            async let pendingRepository = workflow.ensureRepository(destination, registry: fallback, onEvent: onEvent)
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
            let localImage = try await produceImage(registry)
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
        var inspected = try await pendingInspection
        // The Engine's push through the relay, started now where it may be chosen: its listener and the image's name
        // for it are made while the ancestor is looked for, which says whether the relay suits the push.
        var relayAhead = startRelayAhead(destination, inspected: inspected, onEvent: onEvent)
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
                destination, registry: login.registry, found: try await pendingLookup, onEvent: onEvent)
            if let existing = try await existingImage(
                destination, repository: repository, registry: login.registry, inspected: inspected, onEvent: onEvent)
            {
                await tagsAhead?.undo()
                await relayAhead?.abandon()
                return Outcome(pushed: existing, repository: repository, alreadyPushed: true)
            }
            let localImage = try await produceImage(login.registry)
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
                pushed = try await workflow.push(
                    localImage: localImage, inspected: inspected, destination: destination, repository: repository, login: login, onEvent: onEvent)
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

    /// Tags for the Engine's push, started ahead (`EngineTagsAhead`): only for `push`'s existing image, on a
    /// transport that may push through the Engine, and where the Engine would push to the registry itself (a push
    /// through ecrpush's relay names the image for the relay only).
    private func startTagsAhead(_ destination: PushDestination, registry: String, inspected: ImageInspect?) -> EngineTagsAhead? {
        guard existingLocalImage != nil, let inspected, transport == .auto || transport == .daemon else { return nil }
        guard !settings.engineRelay || !EngineRelayPush.applies(to: inspected, docker: workflow.docker) else { return nil }
        return EngineTagsAhead.start(
            docker: workflow.docker, image: inspected, location: RepositoryLocation(registry: registry, repository: destination.repository),
            tags: destination.tags)
    }

    /// `push`'s Engine push through the relay, started while the login is made (`EngineRelayAhead`): for an image
    /// that exists already, where the Engine's push may be chosen (the blob cache cannot answer, gzip layers) and
    /// will push (not `--skip-existing`, which may push nothing). The Engine is asked to push once
    /// `confirmRelayAhead` finds that the relay suits the image.
    private func startRelayAhead(
        _ destination: PushDestination, inspected: ImageInspect?, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) -> EngineRelayAhead? {
        guard existingLocalImage != nil, let inspected, !skipExisting, transport == .auto || transport == .daemon,
            settings.compression == .gzip, settings.blobCache?.mayRemember(imageID: inspected.id) != true
        else { return nil }
        return EngineRelayAhead.start(
            docker: workflow.docker, settings: settings, image: inspected, repository: destination.repository, tags: destination.tags,
            onEvent: onEvent)
    }

    /// The relay started ahead, confirmed where it suits the push: no export was asked ahead (ecrpush's push reads the
    /// image whatever happens), and few new bytes past the image's ancestor from a registry (`EngineRelayPush.suits`).
    /// Otherwise given up (its name for the image removed) and nil.
    private func confirmRelayAhead(
        _ ahead: EngineRelayAhead?, _ destination: PushDestination, inspected: ImageInspect?, exportAhead: EngineExportAhead?,
        candidates: RegistryAncestor.Candidates?
    ) async -> EngineRelayAhead? {
        guard let ahead else { return nil }
        if exportAhead == nil, let inspected {
            let ancestor = candidates.flatMap { RegistryAncestor.choose(for: inspected, among: $0, preferredRegistry: destination.registryOverride) }
            if EngineRelayPush.suits(inspected, ancestor: ancestor) {
                ahead.confirm()
                return ahead
            }
        }
        await ahead.abandon()
        return nil
    }

    /// `push`'s export, requested now when ecrpush's push will read the image whatever the login and the registry say
    /// (`ExportAheadChoice`); nil otherwise.
    /// `connections`: those opened to the registry ahead (`--registry`), whose first answer says how far it is; else
    /// ECR's, opened while the credentials were fetched.
    private func startExportAhead(
        _ destination: PushDestination, inspected: ImageInspect?, candidates: RegistryAncestor.Candidates?, connections: ConnectionsAhead? = nil
    ) async -> EngineExportAhead? {
        await ExportAheadChoice.start(
            image: inspected, name: existingLocalImage, docker: workflow.docker, fanOut: false, skipExisting: skipExisting, transport: transport,
            settings: settings,
            ancestor: {
                guard let image = inspected, let candidates else { return nil }
                return RegistryAncestor.choose(for: image, among: candidates, preferredRegistry: destination.registryOverride)
            },
            registryIsNear: { [ecrConnections] in
                await (connections ?? ecrConnections())?.answered(within: ExportAheadChoice.nearRegistryAnswer) ?? true
            })
    }

    /// `image`'s ancestor from a registry, looked up in the background for whoever needs it first; nil without an
    /// image, or when the Engine cannot be asked now (it is asked again later, where its error is reported).
    private static func ancestorLookup(
        of image: ImageInspect?, docker: DockerClient, preferredRegistry: String?
    ) -> Task<RegistryAncestor?, Never> {
        Task {
            guard let image else { return nil }
            let found: RegistryAncestor?? = try? await RegistryAncestor.find(for: image, docker: docker, preferredRegistry: preferredRegistry)
            return found ?? nil
        }
    }

    /// The manifest of a base in another registry, read while the login is made (`SourceBaseAhead`): only for a
    /// transport that reads base layers, and an ancestor whose registry cannot be the destination's, as the push
    /// chooses it before the login names the registry.
    private func startSourceBaseAhead(
        _ destination: PushDestination, inspected: ImageInspect?, candidates: RegistryAncestor.Candidates?,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) -> SourceBaseAhead? {
        guard transport != .daemon, settings.reuseBaseLayers, let sources, let inspected, let candidates else { return nil }
        return SourceBaseAhead.start(destinationRegistries: [destination.registryOverride], sources: sources, onEvent: onEvent) {
            RegistryAncestor.choose(for: inspected, among: candidates, preferredRegistry: destination.registryOverride)
        }
    }

    /// The ancestor's candidates, from the Engine alone, when the image exists before the push (`push`, not a build
    /// that may pull a base meanwhile) and the transport looks for an ancestor. nil otherwise, or when the Engine
    /// failed: the look-up is then made later, where its error is reported.
    private func gatherAncestorCandidates() async -> RegistryAncestor.Candidates? {
        guard existingLocalImage != nil, settings.reuseBaseLayers, transport != .daemon else { return nil }
        return try? await RegistryAncestor.gather(docker: workflow.docker, for: existingLocalImage)
    }

    /// `push`'s image as the Engine has it, looked at while the login is made; nil for a build, or when the Engine
    /// failed (the look-up is then made again later, where its error is reported). Throws `imageNotFound`.
    private func inspectExistingImage() async throws -> ImageInspect? {
        guard let name = existingLocalImage else { return nil }
        let image: ImageInspect?
        do { image = try await workflow.docker.inspectImage(name) } catch { return nil }
        guard let image else { throw DockerError.imageNotFound(name) }
        return image
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

extension ImagePush {
    /// One destination of a fan-out push: its own ECR client (account, region, credentials) and repository.
    package struct FanOutDestination: Sendable {
        package var workflow: PushWorkflow
        package var destination: PushDestination
        /// Destinations of one group share one registry login: the repositories of one registry, reached with one
        /// ECR client. nil: a login of its own.
        package var loginGroup: Int?

        package init(workflow: PushWorkflow, destination: PushDestination, loginGroup: Int? = nil) {
            self.workflow = workflow
            self.destination = destination
            self.loginGroup = loginGroup
        }
    }

    /// One login per group, asked once by whichever destination comes first; the others wait for it.
    actor SharedLogins {
        private var pending: [Int: Task<RegistryLogin, any Error>] = [:]

        func login(for entry: FanOutDestination) async throws -> RegistryLogin {
            guard let group = entry.loginGroup else { return try await entry.workflow.login(for: entry.destination) }
            let task =
                pending[group]
                ?? Task { [workflow = entry.workflow, destination = entry.destination] in try await workflow.login(for: destination) }
            pending[group] = task
            return try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
        }
    }

    /// `--registry` or `--repository` repeated, or several `platforms`: every destination logged in, its repository
    /// checked (an immutable tag that already names another image fails it before anything is built) at the same
    /// time, the image produced once (once per platform), then read and compressed once and uploaded to all
    /// (`FanOutPush`). A destination that fails (login, repository, upload, manifest) is reported in its outcome; the
    /// others are pushed all the same. `existingLocalImage`: `push`'s image, which an immutable tag may already name.
    /// `skipExisting` (one destination only): immutable tags that all name one image already are the result, and
    /// nothing is built or pushed. `sources`: how a base in another registry is read, to copy it to every destination.
    package static func fanOut(
        _ destinations: [FanOutDestination], platforms: [ImagePlatform] = [], existingLocalImage: String? = nil, skipExisting: Bool = false,
        transport: Transport = .registry, settings: ExportSettings, http: HTTPClient, retryPolicy: RegistryRetryPolicy,
        sources: SourceRegistries? = nil, produceImage: (_ registry: String, _ platform: ImagePlatform?) async throws -> String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> FanOutPush.Report {
        let skipExisting = skipExisting && destinations.count == 1
        var inspected: ImageInspect?
        if let name = existingLocalImage, let docker = destinations.first?.workflow.docker { inspected = try await docker.requireImage(name) }
        let localImage = inspected.map { ImmutableTagCheck.LocalImage(id: $0.id, repoDigests: $0.repoDigests) }
        async let pendingPrepared = prepare(destinations, skipExisting: skipExisting, localImage: localImage, onEvent: onEvent)
        // `push`'s export, asked for while the destinations are logged in, when ecrpush's push will read the image
        // (one platform: several are each built first).
        var exportAhead: EngineExportAhead?
        var sourceAhead: SourceBaseAhead?
        if platforms.isEmpty, let docker = destinations.first?.workflow.docker {
            // The image's ancestor from a registry, looked up once for both: the export's choice and the base's read.
            let preferred = destinations.first?.destination.registryOverride
            // Only where base layers are read (`ExportAheadChoice` asks for it only then too).
            let readsBases = settings.reuseBaseLayers && (transport == .auto || transport == .registry)
            let lookup: Task<RegistryAncestor?, Never>? =
                readsBases ? Self.ancestorLookup(of: inspected, docker: docker, preferredRegistry: preferred) : nil
            let ancestor: @Sendable () async -> RegistryAncestor? = { await lookup?.value ?? nil }
            // A base in another registry: its manifest read while the destinations log in.
            if readsBases, let sources {
                let registries = destinations.map(\.destination.registryOverride)
                sourceAhead = SourceBaseAhead.start(destinationRegistries: registries, sources: sources, onEvent: onEvent, ancestor: ancestor)
            }
            exportAhead = await ExportAheadChoice.start(
                image: inspected, name: existingLocalImage, docker: docker, fanOut: true, skipExisting: skipExisting, transport: transport,
                settings: settings, ancestor: ancestor)
        }
        // Taken by ecrpush's push; ended on every other way out (the Engine's push, an image already there, a failure).
        defer { exportAhead?.cancel() }
        defer { sourceAhead?.cancel() }
        let prepared = await pendingPrepared
        if case .success(let ready)? = prepared.first, let existing = ready.existing, let entry = destinations.first {
            onEvent(
                .info(
                    "\(entry.destination.tags.map { "\(entry.destination.repository):\($0)" }.joined(separator: ", ")) already name "
                        + "\(existing.digest) in a repository with immutable tags: nothing built or pushed (--skip-existing)"))
            return FanOutPush.Report(
                outcomes: [FanOutPush.Outcome(destination: existing.location, result: .success(existing))], alreadyPushed: true)
        }
        var outcomes: [Int: FanOutPush.Outcome] = [:]
        var live: [FanOutTarget] = []
        for (number, (entry, result)) in zip(destinations, prepared).enumerated() {
            switch result {
            case .success(let ready):
                let workflow = entry.workflow
                let destination = entry.destination
                let push = RegistryPush(
                    login: ready.login, endpoint: destination.registryOverride, docker: workflow.docker, settings: settings, http: http,
                    retryPolicy: retryPolicy, freshLogin: { try await workflow.login(for: destination) })
                live.append(FanOutTarget(number: number, entry: entry, login: ready.login, repository: ready.repository, push: push))
            case .failure(let error):
                let location = RepositoryLocation(
                    registry: entry.destination.registryOverride ?? entry.destination.registryId ?? "registry",
                    repository: entry.destination.repository)
                onEvent(.info("Destination \(location) failed: \(error); the others go on"))
                outcomes[number] = FanOutPush.Outcome(destination: location, result: .failure(error))
            }
        }
        guard let first = live.first else {
            if case .failure(let error)? = outcomes[0]?.result { throw error }
            throw ECRPushError.invalidArgument("no destination")
        }
        var fanOut = FanOutPush(
            registries: live.map { ($0.push, $0.registryName, $0.entry.destination.repository) }, docker: destinations[first.number].workflow.docker,
            settings: settings)
        fanOut.sources = sources
        fanOut.exportAhead = exportAhead
        fanOut.sourceAhead = sourceAhead
        let tags = destinations[first.number].destination.tags
        var report: FanOutPush.Report
        if platforms.isEmpty {
            let localImage = try await produceImage(first.registryName, nil)
            report =
                if transport == .auto {
                    try await FanOutThroughEngine(targets: live, fanOut: fanOut, settings: settings, tags: tags).push(
                        localImage: localImage, onEvent: onEvent)
                } else {
                    FanOutPush.Report(outcomes: try await fanOut.push(localImage: localImage, tags: tags, onEvent: onEvent))
                }
        } else {
            // Every platform built before anything is read: a build that fails (or gives another platform) pushes nothing.
            var images: [(platform: ImagePlatform, localImage: String)] = []
            for platform in platforms {
                onEvent(.info("Building for \(platform) (\(images.count + 1) of \(platforms.count))"))
                images.append((platform, try await produceImage(first.registryName, platform)))
            }
            report = try await fanOut.push(platformImages: images, tags: tags, onEvent: onEvent)
        }
        for (entry, outcome) in zip(live, report.outcomes) { outcomes[entry.number] = outcome }
        report.outcomes = destinations.indices.compactMap { outcomes[$0] }
        return report
    }

    typealias PreparedDestination = (login: RegistryLogin, repository: Repository, existing: PushedImage?)

    /// Every destination logged in and its repository checked, at the same time: each one's result, in order.
    private static func prepare(
        _ destinations: [FanOutDestination], skipExisting: Bool, localImage: ImmutableTagCheck.LocalImage?,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async -> [Result<PreparedDestination, any Error>] {
        let logins = SharedLogins()
        return await withTaskGroup(of: (Int, Result<PreparedDestination, any Error>).self) { group in
            for (number, entry) in destinations.enumerated() {
                group.addTask {
                    do {
                        async let login = logins.login(for: entry)
                        async let lookup = entry.workflow.ecr.findRepository(entry.destination.repository, registryId: entry.destination.registryId)
                        let ready = try await login
                        let repository = try await entry.workflow.ensureRepository(
                            entry.destination, registry: ready.registry, found: try await lookup, onEvent: onEvent)
                        let check = try await ImmutableTagCheck(ecr: entry.workflow.ecr).check(
                            entry.destination, repository: repository, registry: ready.registry, skipExisting: skipExisting,
                            localImage: localImage, onEvent: onEvent)
                        guard case .alreadyThere(let existing) = check else { return (number, .success((ready, repository, nil))) }
                        return (number, .success((ready, repository, existing)))
                    } catch {
                        return (number, .failure(error))
                    }
                }
            }
            var results: [Int: Result<PreparedDestination, any Error>] = [:]
            for await (number, result) in group { results[number] = result }
            return destinations.indices.map { results[$0]! }
        }
    }
}
