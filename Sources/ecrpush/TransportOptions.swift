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
        if let text = environment["ECRPUSH_NEAR_REGISTRY_MS"], let milliseconds = Int(text), milliseconds >= 0 {
            settings.nearRegistryAnswer = .milliseconds(milliseconds)
        }
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

extension LayerCompression: ExpressibleByArgument {}

extension UploadRate: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(parsing: argument)
    }
}
