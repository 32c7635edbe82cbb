import ArgumentParser
import ECR
import ECRPushKit
import Foundation

/// `ecrpush scan IMAGE`: an image's vulnerability findings, waited for and judged against a threshold.
struct ScanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Show (and wait for) an image's vulnerability scan; exit 3 at or above a severity.",
        discussion: """
            Starts a basic scan (StartImageScan) when the image has none and the repository does not scan on push, then reads \
            DescribeImageScanFindings: counts by severity and the most severe findings (all of them with --output json).
            --wait polls with backoff (progress on stderr) until the findings are there: COMPLETE (basic scanning), ACTIVE or \
            SCAN_ELIGIBILITY_EXPIRED (enhanced scanning); FAILED, UNSUPPORTED_IMAGE, FINDINGS_UNAVAILABLE, LIMIT_EXCEEDED and \
            IMAGE_ARCHIVED are errors. --fail-on implies --wait.
            Exit status: 0 passed (or no threshold), 3 findings at or above --fail-on, 1 any other failure (timeout included), \
            64 bad arguments.
              ecrpush scan team/app:v1.2.3 --fail-on HIGH
              ecrpush scan team/app@sha256:… --wait --timeout 900 --output json
            """)

    @Argument(help: ArgumentHelp("The image: REPOSITORY:TAG or REPOSITORY@sha256:DIGEST (optionally after its registry).", valueName: "image"))
    var source: String

    @Flag(help: "Wait until the findings are there (else print the scan as it stands).")
    var wait = false

    @Option(help: ArgumentHelp("Seconds to wait with --wait.", valueName: "seconds"))
    var timeout: Int = 600

    @Option(
        name: .customLong("fail-on"),
        help: ArgumentHelp(
            "Exit 3 when anything is found at or above this severity: CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL (implies --wait).",
            valueName: "severity"))
    var failOn: ScanSeverity?

    @OptionGroup var location: ImageLocationOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        let image = try ImageArgument(parsing: source)
        guard (1...86400).contains(timeout) else { throw ValidationError("--timeout must be 1 to 86400 (seconds)") }
        try aws.checkSettings(for: [try location.target(for: image)])
    }

    func run() async throws {
        try await Console.run {
            let image = try ImageArgument(parsing: source)
            let located = try await LocatedRepository.find(image, location: location, aws: aws)
            let renderer = ProgressRenderer(quiet: output.quiet)
            CommandProgress.current?.show(on: renderer)
            var gate = ScanGate(ecr: located.ecr)
            gate.timeout = .seconds(timeout)
            var report = try await gate.scan(
                image.image, in: located.repository, registryId: located.registryId, registry: located.registry,
                wait: wait || failOn != nil
            ) { renderer.handle($0) }
            report.judge(failOn: failOn)
            switch output.output {
            case .text: for line in report.textLines { Console.out(line) }
            case .json: Console.out(try JSONOutput.encode(report))
            }
            try ScanVerdict.enforce(report)
        }
    }
}

enum ScanVerdict {
    /// Exit 3 (said on stderr) when the report failed its threshold.
    static func enforce(_ report: ScanReport) throws {
        guard report.passed == false, let failOn = report.failOn else { return }
        Console.err(
            "ecrpush: \(report.findingsAtOrAboveThreshold ?? 0) finding(s) at or above \(failOn.rawValue) in \(report.displayName) "
                + "(\(report.imageDigest)): failing (--fail-on \(failOn.rawValue))")
        throw ExitCode(ScanExit.findingsAtThreshold)
    }
}
