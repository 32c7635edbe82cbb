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
        if try build.platformList() != nil {
            throw ValidationError(
                "--platform \(build.platform ?? ""): `ecrpush build` gives one image to the Engine, which cannot hold a multi-platform "
                    + "index; give one platform, or build and push them all with `ecrpush build-and-push --platform \(build.platform ?? "")`")
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
        // The daemon asked while the credentials resolve; a missing daemon is said first all the same, before any
        // login or build.
        async let ping = docker.ping()
        async let pendingResolution = aws.resolve(http: LoginAhead.http, for: target)
        _ = try await ping
        let resolved = try await pendingResolution
        // Where no login was started ahead (which opened them itself), ECR's connections open while the role is assumed.
        let store = RequestsAhead.current
        let ecrConnections = store.holdsAny ? nil : LoginWorkflow.openECRConnections(for: resolved)
        let ecr = ECRClient(context: resolved.context)
        let workflow = PushWorkflow(ecr: ecr, docker: docker)

        var imagePush = ImagePush(
            workflow: workflow, transport: transportOptions.transport.imagePushTransport,
            settings: transportOptions.exportSettings(environment: environment), region: resolved.context.region,
            http: transportOptions.registryHTTP(), retryPolicy: transportOptions.retryPolicy)
        imagePush.sources = sourceRegistries(resolved: resolved, environment: environment)
        imagePush.skipExisting = gateOptions.skipExisting
        imagePush.existingLocalImage = existingLocalImage
        imagePush.ecrConnections = { ecrConnections ?? store.ecrConnections }
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
        try report(pushed, alreadyPushed: alreadyPushed, scan: scan, scanFailure: scanFailure)
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

        var imagePushTransport: ImagePush.Transport {
            switch self {
            case .daemon: return .daemon
            case .ecrAPI: return .ecrAPI
            case .registry: return .registry
            case .auto: return .auto
            }
        }
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

    @Flag(
        name: .customLong("no-engine-relay"),
        help: ArgumentHelp(
            "When the Engine pushes (transport daemon, or auto's choice), let it push to the registry itself with the registry "
                + "password, instead of to ecrpush's relay on 127.0.0.1 (which sends only what the registry lacks, with ecrpush's "
                + "own login). Also ECRPUSH_ENGINE_RELAY=0."))
    var noEngineRelay = false

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

    @Option(
        name: .customLong("upload-rate"),
        help: ArgumentHelp(
            "The link's upload rate to the registry, when known (200mbit, 1gbit, 25MB/s; also ECRPUSH_UPLOAD_RATE), for --transport auto: "
                + "it then counts the link's time, and takes the Engine's push where the link bounds both pushes (ecrpush's waits for the "
                + "Engine's export first). Without it, auto measures the link by reading a base blob the registry holds.",
            valueName: "rate"))
    var uploadRate: UploadRate?

    /// `--upload-rate`, else `ECRPUSH_UPLOAD_RATE`; a variable that is no rate is an argument error (`validate()`).
    func effectiveUploadRate(environment: [String: String]) throws -> UploadRate? {
        guard uploadRate == nil, let text = environment["ECRPUSH_UPLOAD_RATE"] else { return uploadRate }
        guard let rate = UploadRate(parsing: text) else {
            throw ValidationError("ECRPUSH_UPLOAD_RATE must be \(UploadRate.expected), not '\(text.prefix(40))'")
        }
        return rate
    }

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
        settings.engineRelay = !noEngineRelay && environment["ECRPUSH_ENGINE_RELAY"] != "0"
        settings.uploadRate = try? effectiveUploadRate(environment: environment)  // checked by validate()
        if let text = environment["ECRPUSH_COPY_PROBE_SECONDS"], let seconds = Double(text), seconds.isFinite, seconds >= 0 {
            settings.copyProbeSeconds = seconds
        }
        if environment["ECRPUSH_LINK_PROBE"] == "0" { settings.linkProbe = nil }
        return settings
    }

    /// Several destinations (`--registry`, `--repository`) or platforms: ecrpush's own registry push (one read, uploads
    /// to all, images by digest); the Engine pushes one image to one repository, by tag.
    func checkFanOut(destinations: Int, platforms: Int) throws {
        guard transport != .auto && transport != .registry else { return }
        if destinations > 1 {
            throw ValidationError(
                "several --registry or --repository need --transport registry (the default auto picks it): one read of the image, uploaded to each")
        }
        if platforms > 1 {
            throw ValidationError(
                "--platform with several platforms needs --transport registry (the default auto picks it): each platform's image is pushed by "
                    + "digest, then the index under the tags")
        }
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
        _ = try effectiveUploadRate(environment: ProcessInfo.processInfo.environment)
        if uploadRate != nil, transport != .auto {
            throw ValidationError(
                "--upload-rate informs --transport auto's choice only: with --transport \(transport.rawValue) it would change nothing")
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
    @OptionGroup var gate: PushGateOptions
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        let targets = try destination.registryTargets()
        try aws.checkSettings(for: targets.isEmpty ? [nil] : targets)
        try transport.checkFanOut(destinations: destination.destinationCount, platforms: 1)
        try gate.checkFanOut(destinations: destination.destinationCount, platforms: 1)
    }

    func run() async throws {
        try await Console.run {
            try await PushRunner(
                aws: aws, destinationOptions: destination, outputOptions: output, transportOptions: transport, gateOptions: gate,
                existingLocalImage: image
            )
            .run(contextDirectory: FileManager.default.currentDirectoryPath) { _, _, _, _, _ in image }
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
    @OptionGroup var gate: PushGateOptions
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        let targets = try destination.registryTargets()
        try aws.checkSettings(for: targets.isEmpty ? [nil] : targets)
        let platforms = try build.platformList()?.count ?? 1
        try transport.checkFanOut(destinations: destination.destinationCount, platforms: platforms)
        try gate.checkFanOut(destinations: destination.destinationCount, platforms: platforms)
    }

    func run() async throws {
        try await Console.run {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: build.context, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw DockerError.contextMissing(path: build.context)
            }
            var runner = PushRunner(
                aws: aws, destinationOptions: destination, outputOptions: output, transportOptions: transport, gateOptions: gate,
                progressMode: build.progress)
            runner.platforms = try build.platformList() ?? []
            try await runner.run(contextDirectory: build.context) { workflow, destination, registry, platform, renderer in
                defer { renderer.finishBuild() }
                var options = try build.buildOptions()
                var untagged = destination
                if let platform {
                    // One of several platforms: the Engine builds that one; the image stays untagged (the tags will name
                    // the index, which the Engine cannot hold).
                    options.platform = platform.description
                    untagged.tags = []
                }
                let destination = untagged
                // A base image from the destination registry is pulled with this command's own login to it.
                let destinationLogin: @Sendable () async throws -> RegistryCredential = {
                    let login = try await workflow.login(for: destination)
                    return RegistryCredential(username: login.username, secret: login.password)
                }
                let result = try await workflow.build(
                    context: build.buildContext, options: options, destination: destination, registry: registry,
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

extension UploadRate: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(parsing: argument)
    }
}
