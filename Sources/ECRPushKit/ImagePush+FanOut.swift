import DockerEngine
import ECR
import ECRLogin
import Foundation
import HTTPTransport
import ImageExport
import RegistryClient

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
        // A repository created for a build that then fails is removed again.
        let created = CreatedRepositories()
        async let pendingPrepared = prepare(destinations, skipExisting: skipExisting, localImage: localImage, created: created, onEvent: onEvent)
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
            let localImage = try await created.removingOnFailure(of: { try await produceImage(first.registryName, nil) }, onEvent: onEvent)
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
                images.append(
                    (platform, try await created.removingOnFailure(of: { try await produceImage(first.registryName, platform) }, onEvent: onEvent)))
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
        _ destinations: [FanOutDestination], skipExisting: Bool, localImage: ImmutableTagCheck.LocalImage?, created: CreatedRepositories,
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
                            entry.destination, registry: ready.registry, found: try await lookup, created: created, onEvent: onEvent)
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
