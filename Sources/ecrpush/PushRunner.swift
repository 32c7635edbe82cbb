import AWSCore
import AWSCredentials
import ArgumentParser
import BuildKitSession
import DockerEngine
import ECR
import ECRLogin
import ECRPushKit
import Foundation
import HTTPTransport
import ImageExport
import RegistryClient

/// Shared by `push` and `build-and-push`: AWS setup, login, repository check, push and the result output.
struct PushRunner {
    let aws: AWSOptions
    let destinationOptions: DestinationOptions
    let outputOptions: OutputOptions
    let transportOptions: TransportOptions
    let gateOptions: PushGateOptions
    /// `push`: the local image, looked at before the push so that an immutable tag holding another image fails early.
    var existingLocalImage: String?
    var progressMode: ProgressMode = .auto
    /// `--platform a,b`: one image per platform, pushed by digest, and an index under the tags (empty: one image).
    var platforms: [ImagePlatform] = []

    /// Builds (or names) the local image to push; `platform` is one of several platforms (nil for a push of one image).
    typealias ImageProducer = (PushWorkflow, PushDestination, _ registry: String, _ platform: ImagePlatform?, ProgressRenderer) async throws
        -> String

    func run(contextDirectory: String?, produceImage: ImageProducer) async throws {
        let renderer = ProgressRenderer(quiet: outputOptions.quiet || progressMode == .quiet, live: progressMode.live)
        // Which tags moved, for the report of an interrupt; events come on transfer threads, outside the task.
        let progress = CommandProgress.current
        progress?.show(on: renderer)
        let onEvent: @Sendable (WorkflowEvent) -> Void = { event in
            progress?.record(event)
            renderer.handle(event)
        }
        // A push killed outright (SIGKILL, a crash) cannot remove its temporary directory: the next one does.
        for abandoned in ScratchDirectories.removeAbandoned() {
            renderer.handle(
                .info(
                    "Removed \(abandoned.path) (\(ProgressRenderer.bytes(abandoned.bytes))), left by an ecrpush (pid \(abandoned.pid)) that was killed"
                ))
        }
        if destinationOptions.destinationCount > 1 || !platforms.isEmpty {
            try await runFanOut(contextDirectory: contextDirectory, renderer: renderer, onEvent: onEvent, produceImage: produceImage)
            return
        }
        let target = try destinationOptions.registryTarget()
        let (destination, note) = destinationOptions.destination(defaultTagFrom: contextDirectory, target: target)
        try destination.validate()
        if let note { renderer.handle(.info(note)) }

        let environment = ProcessInfo.processInfo.environment
        let docker = try DockerClient(environment: environment)
        let abandonedNames = Self.removeAbandonedRelayNames(docker: docker, renderer: renderer)
        // The daemon asked while the credentials resolve; a missing daemon is said first all the same, before any
        // login or build.
        async let ping = docker.ping()
        async let pendingResolution = aws.resolve(http: LoginAhead.http, for: target)
        _ = try await ping
        let resolved = try await pendingResolution
        // Where no login was started ahead (which opened them itself), ECR's connections open while the role is assumed.
        if !RequestsAhead.current.holdsAny { await LoginWorkflow.openECRConnections(for: resolved) }
        let ecr = ECRClient(context: resolved.context)
        let workflow = PushWorkflow(ecr: ecr, docker: docker)

        var imagePush = ImagePush(
            workflow: workflow, transport: transportOptions.transport.imagePushTransport,
            settings: transportOptions.exportSettings(environment: environment), region: resolved.context.region,
            http: transportOptions.registryHTTP(), retryPolicy: transportOptions.retryPolicy)
        imagePush.sources = sourceRegistries(resolved: resolved, environment: environment)
        imagePush.skipExisting = gateOptions.skipExisting
        imagePush.existingLocalImage = existingLocalImage
        let outcome = try await imagePush.run(
            destination,
            produceImage: { registry in
                try await produceImage(workflow, destination, registry, nil, renderer)
            }, onEvent: onEvent)
        let (pushed, repositoryInfo, alreadyPushed) = (outcome.pushed, outcome.repository, outcome.alreadyPushed)
        // The image is in the registry now: whatever happens to its scan or the step outputs, the result is printed.
        var scan: ScanReport?
        var scanFailure: (any Error)?
        if gateOptions.scans {
            var gate = ScanGate(ecr: ecr)
            gate.timeout = .seconds(gateOptions.scanTimeout)
            do {
                scan = try await gate.scan(
                    .digest(pushed.digest), in: repositoryInfo, registryId: destination.registryId, registry: pushed.registry, wait: true,
                    onEvent: onEvent)
                scan?.judge(failOn: gateOptions.failOn)
            } catch {
                if Task.isCancelled { throw error }
                scanFailure = error
            }
        }
        await abandonedNames.value
        try report(pushed, alreadyPushed: alreadyPushed, scan: scan, scanFailure: scanFailure)
    }

    /// A push killed outright cannot remove the names it gave the image for its relay either: the next one does,
    /// beside its own work (one listing of the Engine's images), and says so on stderr. Awaited before the result.
    static func removeAbandonedRelayNames(docker: DockerClient, renderer: ProgressRenderer) -> Task<Void, Never> {
        Task {
            for found in await AbandonedRelayNames.remove(docker: docker) { renderer.handle(.info(found.description)) }
        }
    }

    /// The result of a push to one destination: stdout (image references, or the JSON), `$GITHUB_OUTPUT`, then the
    /// scan's verdict. `platforms`: each platform's image of a multi-platform push (`pushed` is then the index).
    func report(
        _ pushed: PushedImage, alreadyPushed: Bool, scan: ScanReport? = nil, scanFailure: (any Error)? = nil, platforms: [PlatformImage] = [],
        indexMediaType: String? = nil
    ) throws {
        var outputFailure: ECRPushError?
        if let path = ProcessInfo.processInfo.environment["GITHUB_OUTPUT"], !path.isEmpty {
            do { try pushed.appendGitHubOutput(path: path) } catch { outputFailure = error }
        }
        switch outputOptions.output {
        case .text:
            for line in pushed.stdoutLines { Console.out(line) }
            // On stderr: stdout stays the image references, one per line, as scripts read them.
            if !outputOptions.quiet {
                for image in platforms { Console.err("\(image.platform): \(pushed.location.pinned(image.digest))") }
                if let scan { for line in scan.textLines { Console.err(line) } }
            }
        case .json:
            var output = PushOutput(pushed, alreadyPushed: alreadyPushed, scan: scan)
            if !platforms.isEmpty {
                output.platforms = platforms
                output.mediaType = indexMediaType
            }
            Console.out(try JSONOutput.encode(output))
        }
        if let outputFailure {
            // Exit 1 all the same: a CI job whose later steps need the outputs must not go on as if all were well.
            Console.err("ecrpush: error: \(outputFailure.description)")
            throw ExitCode.failure
        }
        if let scanFailure {
            Console.err("ecrpush: error: \(pushed.imageUri) is in the registry, but its scan gave no verdict: \(scanFailure)")
            throw ExitCode.failure
        }
        if let scan { try ScanVerdict.enforce(scan) }
    }
}

/// `--output json` of `push` and `build-and-push`: the pushed image, plus what the gates found when asked.
struct PushOutput: Encodable {
    var registry: String
    var repository: String
    var tags: [String]
    var digest: String
    var imageUri: String
    /// `--skip-existing` found every tag already naming this image: nothing was built or pushed.
    var alreadyPushed: Bool?
    var scan: ScanReport?
    /// Several platforms: the index's media type (`digest` is the index's), and each platform's image.
    var mediaType: String?
    var platforms: [PlatformImage]?

    init(_ pushed: PushedImage, alreadyPushed: Bool, scan: ScanReport?) {
        registry = pushed.registry
        repository = pushed.repository
        tags = pushed.tags
        digest = pushed.digest
        imageUri = pushed.imageUri
        self.alreadyPushed = alreadyPushed ? true : nil
        self.scan = scan
    }
}

extension PushRunner {
    /// How base images in other registries are read: other ECR registries with this command's AWS credentials,
    /// the rest with docker's logins for them, or anonymously.
    func sourceRegistries(resolved: ResolvedAWS, environment: [String: String]) -> SourceRegistries {
        let context = resolved.context
        // A base's registry that does not answer only means its layers are compressed here: not worth minutes.
        var retryPolicy = transportOptions.retryPolicy
        retryPolicy.maxAttempts = min(retryPolicy.maxAttempts, 3)
        retryPolicy.budget = min(retryPolicy.budget, 15)
        return SourceRegistries(
            ecrLogin: { host in
                // Through the token cache, as `ecrpush login` and the credential helper: a CI job that reads the
                // same base again needs no new token.
                var inRegion = resolved
                inRegion.context = context.with(region: host.region)
                let cache = TokenCache.fromEnvironment(environment, homeDirectory: homeDirectory(environment))
                let logins = try await CachedLoginWorkflow.logins(resolved: inRegion, registryIds: host.accountId.map { [$0] } ?? [], cache: cache)
                guard let login = logins.first else { throw ECRLoginError.noAuthorizationData }
                return login
            },
            dockerConfig: DockerConfigFile(path: DockerConfigFile.defaultPath(environment: environment, homeDirectory: homeDirectory(environment))),
            environment: environment, http: transportOptions.registryHTTP(), retryPolicy: retryPolicy)
    }
}
