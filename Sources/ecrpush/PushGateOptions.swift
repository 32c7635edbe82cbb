import ArgumentParser
import ECRPushKit

/// What `push` and `build-and-push` check around the push: an immutable tag that exists already (before anything
/// is built or read), and the image's scan findings (after the push).
struct PushGateOptions: ParsableArguments {
    @Flag(
        name: .customLong("skip-existing"),
        help: ArgumentHelp(
            "When the repository's tags are immutable and every --tag already names one image, print that image and exit 0 without "
                + "building or pushing (idempotent CI reruns)."))
    var skipExisting = false

    @Flag(
        help: ArgumentHelp(
            "After the push, wait for the image's vulnerability scan (a basic scan is started when the repository does not scan on "
                + "push) and print its counts by severity (on stderr; in the JSON with --output json)."))
    var scan = false

    @Option(
        name: .customLong("fail-on"),
        help: ArgumentHelp(
            "Exit 3 when the scan finds anything at or above this severity: CRITICAL, HIGH, MEDIUM, LOW or INFORMATIONAL (implies --scan).",
            valueName: "severity"))
    var failOn: ScanSeverity?

    @Option(name: .customLong("scan-timeout"), help: ArgumentHelp("Seconds to wait for the scan's findings.", valueName: "seconds"))
    var scanTimeout: Int = 600

    var scans: Bool { scan || failOn != nil }

    func validate() throws {
        guard (1...86400).contains(scanTimeout) else { throw ValidationError("--scan-timeout must be 1 to 86400 (seconds)") }
    }

    /// The scan judges one image in one repository, and `--skip-existing` accepts one: neither is done for several
    /// destinations; the scan not for several platforms either (ECR scans each platform's image, not the index).
    func checkFanOut(destinations: Int, platforms: Int) throws {
        let flag = failOn != nil ? "--fail-on" : "--scan"
        if scans && platforms > 1 {
            throw ValidationError(
                "\(flag) judges one image, and --platform with several platforms pushes an index: ECR scans each platform's image, not the "
                    + "index. Push first, then scan each platform's image with `ecrpush scan REPOSITORY@DIGEST` (the digests are in the output)")
        }
        if scans && destinations > 1 {
            throw ValidationError(
                "\(flag) judges one image in one repository: not with several --registry or --repository. Push first, then scan it where "
                    + "it matters with `ecrpush scan`")
        }
        if skipExisting && destinations > 1 {
            throw ValidationError(
                "--skip-existing accepts the image already in one repository: not with several --registry or --repository")
        }
    }
}

extension ScanSeverity: ExpressibleByArgument {
    /// Any case: `--fail-on high` as well as `--fail-on HIGH`.
    public init?(argument: String) {
        self.init(rawValue: argument.uppercased())
    }

    public static var allValueStrings: [String] { allCases.reversed().map(\.rawValue) }
}

/// The exit status of a scan whose findings reach the `--fail-on` threshold: apart from 1 (anything else went
/// wrong), so a pipeline can tell "vulnerable" from "broken".
enum ScanExit {
    static let findingsAtThreshold: Int32 = 3
}
