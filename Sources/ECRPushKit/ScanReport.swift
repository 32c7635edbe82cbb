import ECR
import Foundation

/// An image's scan as `ecrpush scan` and `--scan` report it: counts by severity, the findings, and the verdict.
package struct ScanReport: Sendable, Equatable, Codable {
    package var registry: String?
    package var repository: String
    package var imageDigest: String
    package var imageTags: [String]
    package var imageUri: String?
    /// ECR's status as sent: COMPLETE, ACTIVE, IN_PROGRESS, …
    package var status: String
    package var statusDescription: String?
    /// Whether the findings are final enough to judge (false without --wait while the scan runs).
    package var complete: Bool
    package var completedAt: Date?
    package var vulnerabilitySourceUpdatedAt: Date?
    /// Every severity ECR counted, the five ranked ones always present.
    package var severityCounts: [String: Int]
    /// Most severe first.
    package var findings: [ScanFinding]
    package var failOn: ScanSeverity?
    package var findingsAtOrAboveThreshold: Int?
    /// Nil without a threshold.
    package var passed: Bool?

    package init(
        registry: String?, repository: String, imageDigest: String, imageTags: [String], status: String, statusDescription: String?,
        complete: Bool, completedAt: Date? = nil, vulnerabilitySourceUpdatedAt: Date? = nil, severityCounts: [String: Int] = [:],
        findings: [ScanFinding] = []
    ) {
        self.registry = registry
        self.repository = repository
        self.imageDigest = imageDigest
        self.imageTags = imageTags
        self.imageUri = registry.map { "\($0)/\(repository)@\(imageDigest)" }
        self.status = status
        self.statusDescription = statusDescription
        self.complete = complete
        self.completedAt = completedAt
        self.vulnerabilitySourceUpdatedAt = vulnerabilitySourceUpdatedAt
        var counts = severityCounts
        for severity in ScanSeverity.allCases where counts[severity.rawValue] == nil { counts[severity.rawValue] = 0 }
        self.severityCounts = counts
        self.findings = Self.mostSevereFirst(findings)
    }

    /// Findings counted by ECR at `severity` or above (from its counts, which cover every page).
    package func count(atOrAbove severity: ScanSeverity) -> Int {
        severityCounts.reduce(0) { sum, entry in
            guard let ranked = ScanSeverity.of(entry.key), ranked >= severity else { return sum }
            return sum + entry.value
        }
    }

    /// Sets the verdict for `--fail-on severity`.
    package mutating func judge(failOn severity: ScanSeverity?) {
        failOn = severity
        guard let severity else { findingsAtOrAboveThreshold = nil; passed = nil; return }
        let count = count(atOrAbove: severity)
        findingsAtOrAboveThreshold = count
        passed = count == 0
    }

    /// The image as people name it: `repo:tag` when it has tags, else `repo@digest`.
    package var displayName: String {
        imageTags.first.map { "\(repository):\($0)" } ?? "\(repository)@\(imageDigest)"
    }

    /// Severity (ranked ones first, CRITICAL down), then score, then name: a stable order for the top findings.
    static func mostSevereFirst(_ findings: [ScanFinding]) -> [ScanFinding] {
        findings.sorted { a, b in
            let (ra, rb) = (ScanSeverity.of(a.severity), ScanSeverity.of(b.severity))
            if ra != rb {
                switch (ra, rb) {
                case (let x?, let y?): return x > y
                case (.some, nil): return true
                default: return false
                }
            }
            if (a.score ?? -1) != (b.score ?? -1) { return (a.score ?? -1) > (b.score ?? -1) }
            return a.name < b.name
        }
    }
}
