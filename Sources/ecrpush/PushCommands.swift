import AWSCore
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

/// `ecrpush build`: a docker build through the Engine API.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build an image with the Docker Engine.")

    @OptionGroup var build: BuildOptionGroup
    @Option(name: [.customShort("t"), .customLong("tag")], help: "Name and tag for the image (repeatable).")
    var tags: [String] = []
    @Flag(name: [.short, .long], help: "No build output on stderr.")
    var quiet = false

    func validate() throws {
        for tag in tags {
            do { _ = try ImageReference(parsing: tag) } catch { throw ValidationError("-t \(tag): \(error)") }
        }
    }

    func run() async throws {
        try await Console.run {
            let docker = try DockerClient(environment: ProcessInfo.processInfo.environment)
            let renderer = ProgressRenderer(quiet: quiet || build.progress == .quiet, live: build.progress.live)
            CommandProgress.current?.show(on: renderer)
            defer { renderer.finishBuild() }
            let result = try await ImageBuilder(docker: docker).build(
                context: build.buildContext, options: try build.buildOptions(extraTags: tags), builder: build.builder,
                buildKit: try build.buildKitSettings()
            ) { renderer.handle($0) }
            renderer.finishBuild()
            Console.out(result.imageID)
        }
    }
}

/// Shared by `push` and `build-and-push`: AWS setup, login, repository check, push and the result output.
struct PushRunner {
    let aws: AWSOptions
    let destinationOptions: DestinationOptions
    let outputOptions: OutputOptions
    let transportOptions: TransportOptions
    var progressMode: ProgressMode = .auto

    typealias ImageProducer = (PushWorkflow, PushDestination, _ registry: String, ProgressRenderer) async throws -> String

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
        let target = try destinationOptions.registryTarget()
        let (destination, note) = destinationOptions.destination(defaultTagFrom: contextDirectory, target: target)
        try destination.validate()
        if let note { renderer.handle(.info(note)) }

        let environment = ProcessInfo.processInfo.environment
        let docker = try DockerClient(environment: environment)
        // A missing daemon is said before any AWS call or build.
        _ = try await docker.ping()
        let resolved = try await aws.resolve(http: HTTPClient(), for: target)
        let ecr = ECRClient(context: resolved.context)
        let workflow = PushWorkflow(ecr: ecr, docker: docker)

        let pushed: PushedImage
        switch transportOptions.transport {
        case .ecrAPI:
            // No registry login at all: the host only names the result.
            let fallback = destination.registryOverride ?? "\(destination.registryId ?? "registry").dkr.ecr.\(resolved.context.region).amazonaws.com"
            let repository = try await workflow.ensureRepository(destination, registry: fallback, onEvent: onEvent)
            let registry = destination.registryOverride ?? repository.registryHost ?? fallback
            let localImage = try await produceImage(workflow, destination, registry, renderer)
            let push = ECRAPIPush(ecr: ecr, docker: docker, settings: transportOptions.exportSettings(environment: environment))
            pushed = try await push.push(localImage: localImage, destination: destination, registry: registry, onEvent: onEvent)
        case .daemon, .registry, .auto:
            // The token's proxyEndpoint (or --registry), with the token's basic auth, for the Engine or for ecrpush.
            var login = try await workflow.login(for: destination)
            let repository = try await workflow.ensureRepository(destination, registry: login.registry, onEvent: onEvent)
            let localImage = try await produceImage(workflow, destination, login.registry, renderer)
            // A long build can outlive the token: renewed when little of it is left.
            if let expiresAt = login.expiresAt, expiresAt.timeIntervalSinceNow < workflow.tokenRenewalMargin {
                login = try await workflow.login(for: destination)
            }
            let registryPush = RegistryPush(
                login: login, endpoint: destination.registryOverride, docker: docker,
                settings: transportOptions.exportSettings(environment: environment),
                http: transportOptions.registryHTTP(), retryPolicy: transportOptions.retryPolicy,
                freshLogin: { try await workflow.login(for: destination) })
            var path: TransportEstimate.Path = transportOptions.transport == .daemon ? .daemon : .registry
            var estimate: TransportEstimate?
            if transportOptions.transport == .auto {
                let chosen = try await registryPush.estimate(localImage: localImage, registryName: login.registry)
                onEvent(.info(chosen.description))
                path = chosen.path
                estimate = chosen
            }
            switch path {
            case .daemon:
                pushed = try await workflow.push(
                    localImage: localImage, destination: destination, repository: repository, login: login, onEvent: onEvent)
            case .registry:
                pushed = try await registryPush.push(
                    localImage: localImage, destination: destination, registryName: login.registry, estimate: estimate,
                    onEvent: onEvent)
            }
        }
        // The image is in the registry now: whatever happens to the step outputs, the result is printed.
        var outputFailure: ECRPushError?
        if let path = environment["GITHUB_OUTPUT"], !path.isEmpty {
            do { try pushed.appendGitHubOutput(path: path) } catch { outputFailure = error }
        }
        switch outputOptions.output {
        case .text: for line in pushed.stdoutLines { Console.out(line) }
        case .json: Console.out(try JSONOutput.encode(pushed))
        }
        if let outputFailure {
            // Exit 1 all the same: a CI job whose later steps need the outputs must not go on as if all were well.
            Console.err("ecrpush: error: \(outputFailure.description)")
            throw ExitCode.failure
        }
    }
}

/// How the image travels to ECR.
struct TransportOptions: ParsableArguments {
    enum Transport: String, ExpressibleByArgument, CaseIterable {
        /// The Docker Engine pushes, with the ECR token as its registry login.
        case daemon
        /// ecrpush reads the image from the Engine and uploads it through ECR's API (IAM only, no password).
        case ecrAPI = "ecr-api"
        /// ecrpush reads the image from the Engine and speaks the registry API itself, with the ECR login.
        case registry
        /// daemon or registry, whichever costs less for this push (TransportEstimate).
        case auto
    }

    // auto is the default: registry is the fastest for new layers (about half of docker push's time in
    // tools/bench_push.py), the Engine's push when most layers came from the destination registry.
    @Option(
        help:
            ArgumentHelp(
                "auto (the cheaper of daemon and registry for this push, said on stderr), registry (the registry API with the ECR login, "
                    + "straight from the Engine's export), ecr-api (ECR's layer-upload API, IAM only, no registry login) or daemon "
                    + "(docker push by the Engine with the ECR login).")
    )
    var transport: Transport = .auto

    @Option(help: "Layers uploaded at the same time by the ecr-api and registry transports.")
    var jobs: Int = 4

    @Option(
        help:
            ArgumentHelp(
                "gzip (Docker v2 manifest, read everywhere) or zstd (OCI manifest; smaller, faster; Docker 23+, containerd 1.5+) for layers pushed by "
                    + "ecrpush itself.")
    )
    var compression: LayerCompression = .gzip

    @Option(
        name: .customLong("compression-level"),
        help: ArgumentHelp(
            LayerCompression.allCases.map { "\($0.rawValue) \($0.levels.lowerBound)-\($0.levels.upperBound) (default \($0.defaultLevel))" }
                .joined(separator: ", ") + "."))
    var compressionLevelOption: Int?

    var compressionLevel: Int { compressionLevelOption ?? compression.defaultLevel }

    @Option(
        name: .customLong("temp-space-limit"),
        help: ArgumentHelp(
            "MiB of compressed layers that may wait on disk for their upload before reading the image pauses.",
            valueName: "MiB"))
    var tempSpaceLimit: Int64 = EngineImageExport.defaultTemporarySpaceLimit >> 20

    @Flag(
        name: .customLong("no-blob-cache"),
        help: "Read and compress the image even when an earlier push left all its blobs in the registry (also ECRPUSH_NO_CACHE=1).")
    var noBlobCache = false

    @Flag(
        name: .customLong("no-base-layers"),
        help: ArgumentHelp(
            "Compress and upload the base image's layers too, even where the destination registry has them already: the manifest then "
                + "depends only on the image and the compression level (and auto always picks registry)."))
    var noBaseLayers = false

    @Option(
        name: .customLong("retry-timeout"),
        help: ArgumentHelp(
            "Seconds a registry request keeps being retried (connection failures, 408, 429, 5xx; backoff with jitter, Retry-After "
                + "honoured) before its failure is final. 0: no retries.",
            valueName: "seconds"))
    var retryTimeout: Double = 120

    @Option(
        name: .customLong("stall-timeout"),
        help: ArgumentHelp(
            "Seconds a registry transfer may move no bytes before it is abandoned (and retried on a fresh connection).",
            valueName: "seconds"))
    var stallTimeout: Double = 120

    var retryPolicy: RegistryRetryPolicy {
        retryTimeout == 0 ? .never : RegistryRetryPolicy(budget: retryTimeout)
    }

    /// The registry's HTTP client: a stalled transfer is abandoned after `--stall-timeout`.
    func registryHTTP() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.lowSpeedTime = stallTimeout
        return HTTPClient(configuration: configuration)
    }

    /// How ecrpush reads and uploads the image itself; the blob cache (which blobs earlier pushes left where)
    /// lets an unchanged image's re-push skip the export entirely.
    func exportSettings(environment: [String: String]) -> ExportSettings {
        var settings = ExportSettings(
            compression: compression, compressionLevel: compressionLevel, jobs: jobs,
            temporarySpaceLimit: tempSpaceLimit << 20,
            blobCache: noBlobCache ? nil : BlobDigestCache.fromEnvironment(environment, homeDirectory: homeDirectory(environment)))
        settings.reuseBaseLayers = !noBaseLayers
        return settings
    }

    func validate() throws {
        guard compression.levels.contains(compressionLevel) else {
            throw ValidationError(
                "--compression-level for \(compression.rawValue) must be \(compression.levels.lowerBound) to \(compression.levels.upperBound)")
        }
        if compression == .zstd && transport == .daemon {
            throw ValidationError("--compression zstd needs --transport registry or ecr-api (the Engine compresses what it pushes itself)")
        }
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be 1 to 64") }
        guard retryTimeout.isFinite, (0...3600).contains(retryTimeout) else { throw ValidationError("--retry-timeout must be 0 to 3600 (seconds)") }
        guard stallTimeout.isFinite, (1...3600).contains(stallTimeout) else { throw ValidationError("--stall-timeout must be 1 to 3600 (seconds)") }
        guard (0...(1 << 30)).contains(tempSpaceLimit) else {
            throw ValidationError("--temp-space-limit must be 0 to \(1 << 30) (MiB)")
        }
    }
}

/// `ecrpush push`: tag a local image for the registry and push it.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push a local image to ECR.")

    @Argument(help: "Local image (name[:tag] or id).")
    var image: String
    @OptionGroup var destination: DestinationOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var transport: TransportOptions
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        try aws.checkSettings(for: [try destination.registryTarget()])
    }

    func run() async throws {
        try await Console.run {
            try await PushRunner(aws: aws, destinationOptions: destination, outputOptions: output, transportOptions: transport)
                .run(contextDirectory: FileManager.default.currentDirectoryPath) { _, _, _, _ in image }
        }
    }
}

/// `ecrpush build-and-push`: the containerise.py chain.
struct BuildAndPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-and-push",
        abstract: "Build an image and push it to ECR (assume role, ECR login, build, push).")

    @OptionGroup var build: BuildOptionGroup
    @OptionGroup var destination: DestinationOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var transport: TransportOptions
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        try aws.checkSettings(for: [try destination.registryTarget()])
    }

    func run() async throws {
        try await Console.run {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: build.context, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw DockerError.contextMissing(path: build.context)
            }
            let runner = PushRunner(
                aws: aws, destinationOptions: destination, outputOptions: output, transportOptions: transport, progressMode: build.progress)
            try await runner.run(contextDirectory: build.context) { workflow, destination, registry, renderer in
                defer { renderer.finishBuild() }
                // A base image from the destination registry is pulled with this command's own login to it.
                let destinationLogin: @Sendable () async throws -> RegistryCredential = {
                    let login = try await workflow.login(for: destination)
                    return RegistryCredential(username: login.username, secret: login.password)
                }
                let result = try await workflow.build(
                    context: build.buildContext, options: try build.buildOptions(), destination: destination, registry: registry,
                    builder: build.builder, buildKit: try build.buildKitSettings(known: [RegistryHost.hostAndPort(of: registry): destinationLogin])
                ) {
                    renderer.handle($0)
                }
                return result.imageID
            }
        }
    }
}

extension LayerCompression: ExpressibleByArgument {}
