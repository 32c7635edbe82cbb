import ECR
import ECRPushKit
import Foundation
import Testing

/// The scan gate's rules without AWS: what each status means, how thresholds count, which tags are immutable.
@Suite struct ScanGateTests {
    @Test func statusesAsAWSDocumentsThem() {
        #expect(ScanPhase.of(status: "COMPLETE", published: true) == .done(stale: false))
        #expect(ScanPhase.of(status: "ACTIVE", published: true) == .done(stale: false))
        #expect(ScanPhase.of(status: "SCAN_ELIGIBILITY_EXPIRED", published: true) == .done(stale: true))
        // Enhanced scanning can say COMPLETE or ACTIVE before Inspector published anything: keep waiting.
        #expect(ScanPhase.of(status: "COMPLETE", published: false) == .waiting)
        #expect(ScanPhase.of(status: "ACTIVE", published: false) == .waiting)
        #expect(ScanPhase.of(status: "IN_PROGRESS", published: false) == .waiting)
        #expect(ScanPhase.of(status: "PENDING", published: false) == .waiting)
        for status in ["FAILED", "UNSUPPORTED_IMAGE", "FINDINGS_UNAVAILABLE", "LIMIT_EXCEEDED", "IMAGE_ARCHIVED", "SOMETHING_NEW"] {
            guard case .unusable(let hint) = ScanPhase.of(status: status, published: true) else {
                Issue.record("\(status) must end the wait without a verdict")
                continue
            }
            #expect(!hint.isEmpty)
        }
    }

    @Test func thresholdsCountAtOrAboveAndIgnoreUnranked() {
        var report = ScanReport(
            registry: "r.example", repository: "team/app", imageDigest: "sha256:" + String(repeating: "a", count: 64), imageTags: ["v1"],
            status: "COMPLETE", statusDescription: nil, complete: true,
            severityCounts: ["MEDIUM": 2, "INFORMATIONAL": 1, "UNDEFINED": 5, "UNTRIAGED": 3],
            findings: [
                ScanFinding(name: "b", severity: "INFORMATIONAL"), ScanFinding(name: "u", severity: "UNDEFINED"),
                ScanFinding(name: "a", severity: "MEDIUM", score: 5), ScanFinding(name: "c", severity: "MEDIUM", score: 6)
            ])
        #expect(report.severityCounts["CRITICAL"] == 0, "the five ranked severities are always present")
        #expect(report.findings.map(\.name) == ["c", "a", "b", "u"], "most severe first, then by score")
        let expected: [ScanSeverity: Int] = [.critical: 0, .high: 0, .medium: 2, .low: 2, .informational: 3]
        for (severity, count) in expected {
            report.judge(failOn: severity)
            #expect(report.findingsAtOrAboveThreshold == count, "\(severity)")
            #expect(report.passed == (count == 0))
        }
        report.judge(failOn: nil)
        #expect(report.passed == nil)
        #expect(report.imageUri == "r.example/team/app@sha256:" + String(repeating: "a", count: 64))
        #expect(report.displayName == "team/app:v1")
    }

    @Test func severityOrderAndParsing() {
        let order: [ScanSeverity] = [.informational, .low, .medium, .high, .critical]
        #expect(order == order.sorted())
        #expect(ScanSeverity.of("high") == .high)
        #expect(ScanSeverity.of("UNDEFINED") == nil)
        #expect(ScanSeverity.of("UNTRIAGED") == nil)
    }

    @Test func tagMutabilityWithExclusionFilters() throws {
        func repository(_ mutability: String?, _ filters: [String] = []) -> Repository {
            var json = "{\"repositoryName\":\"team/app\""
            if let mutability { json += ",\"imageTagMutability\":\"\(mutability)\"" }
            if !filters.isEmpty {
                json += ",\"imageTagMutabilityExclusionFilters\":["
                json += filters.map { "{\"filterType\":\"WILDCARD\",\"filter\":\"\($0)\"}" }.joined(separator: ",") + "]"
            }
            json += ",\"imageScanningConfiguration\":{\"scanOnPush\":true}}"
            return try! JSONDecoder().decode(Repository.self, from: Data(json.utf8))
        }
        #expect(repository("IMMUTABLE").isTagImmutable("v1"))
        #expect(!repository("MUTABLE").isTagImmutable("v1"))
        #expect(!repository(nil).isTagImmutable("v1"))
        let exceptLatest = repository("IMMUTABLE_WITH_EXCLUSION", ["latest", "dev-*"])
        #expect(!exceptLatest.isTagImmutable("latest"))
        #expect(!exceptLatest.isTagImmutable("dev-123"))
        #expect(exceptLatest.isTagImmutable("v1.2.3"))
        #expect(exceptLatest.isTagImmutable("latest2"))
        let onlyReleases = repository("MUTABLE_WITH_EXCLUSION", ["v*.*.*"])
        #expect(onlyReleases.isTagImmutable("v1.2.3"))
        #expect(!onlyReleases.isTagImmutable("main"))
        #expect(repository("MUTABLE").scansOnPush)
        #expect(TagMutabilityExclusionFilter(filter: "*a*b*").matches("xxaxxbxx"))
        #expect(!TagMutabilityExclusionFilter(filter: "*a*b").matches("xxbxxa"))
    }
}
