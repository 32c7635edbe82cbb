import AWSCore
import ECR
import ECRPushKit
import Foundation

extension ScanReport {
    /// How many findings the text output lists; `--output json` has them all.
    static let topFindings = 10

    /// The report for people: status, counts by severity, the most severe findings and the verdict.
    var textLines: [String] {
        var lines: [String] = []
        var head = "Scan of \(displayName)"
        if let imageUri { head += " (\(imageUri))" }
        head += ": \(status)"
        if let completedAt { head += ", completed \(Timestamps.formatISO8601(completedAt))" }
        lines.append(head)
        guard complete else {
            if let statusDescription { lines.append(statusDescription) }
            lines.append("No findings yet: wait for them with --wait.")
            return lines
        }
        let ranked = ScanSeverity.allCases.reversed().map { "\($0.rawValue) \(severityCounts[$0.rawValue] ?? 0)" }
        let unranked = severityCounts.keys.filter { ScanSeverity.of($0) == nil }.sorted().map { "\($0) \(severityCounts[$0] ?? 0)" }
        lines.append((ranked + unranked).joined(separator: ", "))
        if !findings.isEmpty {
            let shown = findings.prefix(Self.topFindings)
            lines.append(findings.count > shown.count ? "Top \(shown.count) of \(findings.count) findings:" : "Findings:")
            for finding in shown {
                var line = "  \(finding.severity.padding(toLength: 13, withPad: " ", startingAt: 0)) \(finding.name)"
                if let package = finding.packageName { line += "  \(package)\(finding.packageVersion.map { " \($0)" } ?? "")" }
                if let uri = finding.uri { line += "  \(uri)" }
                lines.append(line)
            }
        }
        if let failOn, let count = findingsAtOrAboveThreshold {
            lines.append(
                count == 0
                    ? "--fail-on \(failOn.rawValue): passed (nothing at or above \(failOn.rawValue))"
                    : "--fail-on \(failOn.rawValue): failed (\(count) finding(s) at or above \(failOn.rawValue))")
        }
        return lines
    }
}
