import Foundation
import TestWorld
import Testing

/// `ecrpush scan` and `push --scan` against moto's StartImageScan and DescribeImageScanFindings: moto's own
/// findings (one HIGH, CVE-9999-9999) and answers scripted through motoworld (other severities, statuses that
/// need waiting, enhanced scanning's statuses and findings, failures).
@Suite struct ScanCommandTests {
    typealias World = BuildAndPushTests.World

    /// Through ECR's API: in this world only PutImage tells moto about an image.
    static func pushBase(_ world: World, repository: String, extra: [String] = []) async throws -> String {
        let pushed = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--create-repository",
                "--registry", world.registry.hostPort, "--output", "json", "--transport", "ecr-api"
            ] + extra,
            environment: world.environment)
        try #require(pushed.status == 0, "\(pushed.combinedText)")
        let object = try #require(try JSONSerialization.jsonObject(with: pushed.stdout) as? [String: Any])
        return try #require(object["digest"] as? String)
    }

    static func scan(_ world: World, _ arguments: [String]) async throws -> ProcessResult {
        try await ECRPushCLI.run(["scan"] + arguments, environment: world.environment)
    }

    static func completed(_ counts: [String: Int], findings: [[String: any Sendable]] = [], key: String = "findings") -> [String: any Sendable] {
        [
            "imageScanStatus": ["status": "COMPLETE", "description": "The scan was completed successfully."],
            "imageScanFindings": ["imageScanCompletedAt": 1_764_000_000, "findingSeverityCounts": counts, key: findings] as [String: any Sendable]
        ]
    }

    /// Exit status for each threshold, lowest first (INFORMATIONAL … CRITICAL).
    static func statuses(_ world: World, _ image: String) async throws -> [Int32] {
        var statuses: [Int32] = []
        for severity in ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"] {
            statuses.append(try await scan(world, [image, "--fail-on", severity.lowercased()]).status)
        }
        return statuses
    }

    @Test func thresholdsAgainstMotoFindings() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("scanned")
        let digest = try await Self.pushBase(world, repository: repository)
        try await world.moto.resetCounts()

        // No scan yet and no scan on push: one is started; moto completes it at once.
        let first = try await Self.scan(world, ["\(repository):v1"])
        try #require(first.status == 0, "\(first.combinedText)")
        #expect(first.stdoutText.contains("Scan of \(repository):v1"))
        #expect(first.stdoutText.contains("CRITICAL 0, HIGH 1, MEDIUM 0, LOW 0, INFORMATIONAL 0"), "\(first.stdoutText)")
        #expect(first.stdoutText.contains("CVE-9999-9999"))
        #expect(first.stderrText.contains("Started a basic scan"))
        #expect(try await world.moto.counts()["StartImageScan"] == 1)

        // moto's one HIGH finding: passes only at CRITICAL; exit 3 at or above the threshold.
        #expect(try await Self.statuses(world, "\(repository):v1") == [3, 3, 3, 3, 0])
        let failed = try await Self.scan(world, ["\(repository)@\(digest)", "--fail-on", "HIGH"])
        #expect(failed.stderrText.contains("1 finding(s) at or above HIGH"))
        #expect(failed.stdoutText.contains("--fail-on HIGH: failed"))
        #expect(try await world.moto.counts()["StartImageScan"] == 1, "a scan that exists is not started again")

        let json = try await Self.scan(world, ["\(repository):v1", "--wait", "--output", "json", "--fail-on", "CRITICAL"])
        try #require(json.status == 0, "\(json.combinedText)")
        let report = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect(report["imageDigest"] as? String == digest)
        #expect(report["status"] as? String == "COMPLETE")
        #expect(report["passed"] as? Bool == true)
        #expect((report["severityCounts"] as? [String: Int])?["HIGH"] == 1)
        let findings = try #require(report["findings"] as? [[String: Any]])
        #expect(findings.count == 1)
        #expect(findings.first?["name"] as? String == "CVE-9999-9999")
        #expect(findings.first?["packageName"] as? String == "moto_fake")

        // Other findings: two MEDIUM, one INFORMATIONAL, one UNDEFINED (never counted by a threshold).
        try await world.moto.scriptScanFindings(
            repository: repository,
            responses: [
                Self.completed(
                    ["MEDIUM": 2, "INFORMATIONAL": 1, "UNDEFINED": 1],
                    findings: [
                        ["name": "CVE-2026-0001", "severity": "MEDIUM"], ["name": "CVE-2026-0002", "severity": "MEDIUM"],
                        ["name": "CVE-2026-0003", "severity": "INFORMATIONAL"], ["name": "CVE-2026-0004", "severity": "UNDEFINED"]
                    ])
            ])
        #expect(try await Self.statuses(world, "\(repository):v1") == [3, 3, 3, 0, 0])
        // A clean scan passes everywhere.
        try await world.moto.scriptScanFindings(repository: repository, responses: [Self.completed([:])])
        #expect(try await Self.statuses(world, "\(repository):v1") == [0, 0, 0, 0, 0])
    }

    @Test func waitingEnhancedStatusesAndFailures() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("scan-wait")
        _ = try await Self.pushBase(world, repository: repository)
        _ = try await Self.scan(world, ["\(repository):v1"])  // a scan exists from here on: the script answers

        // Basic: IN_PROGRESS, then COMPLETE; progress on stderr, one LOW finding.
        try await world.moto.scriptScanFindings(
            repository: repository,
            responses: [
                ["imageScanStatus": ["status": "IN_PROGRESS"]],
                Self.completed(["LOW": 1], findings: [["name": "CVE-2026-1000", "severity": "LOW"]])
            ])
        let waited = try await Self.scan(world, ["\(repository):v1", "--fail-on", "LOW"])
        #expect(waited.status == 3, "\(waited.combinedText)")
        #expect(waited.stderrText.contains("IN_PROGRESS"))
        #expect(waited.stdoutText.contains("CVE-2026-1000"))

        // Without --wait, a running scan is printed as it stands.
        try await world.moto.scriptScanFindings(repository: repository, responses: [["imageScanStatus": ["status": "IN_PROGRESS"]]])
        let now = try await Self.scan(world, ["\(repository):v1"])
        #expect(now.status == 0, "\(now.combinedText)")
        #expect(now.stdoutText.contains("IN_PROGRESS"))
        let timedOut = try await Self.scan(world, ["\(repository):v1", "--wait", "--timeout", "1"])
        #expect(timedOut.status == 1)
        #expect(timedOut.stderrText.contains("still IN_PROGRESS after 1 s"), "\(timedOut.stderrText)")

        // Enhanced scanning: PENDING, COMPLETE before any findings exist (still waiting), then ACTIVE with findings.
        let enhanced: [[String: any Sendable]] = [
            ["imageScanStatus": ["status": "PENDING"]],
            ["imageScanStatus": ["status": "COMPLETE"]],
            [
                "imageScanStatus": ["status": "ACTIVE", "description": "Continuous scan is selected for image."],
                "imageScanFindings": [
                    "findingSeverityCounts": ["CRITICAL": 1, "UNTRIAGED": 1],
                    "enhancedFindings": [
                        [
                            "severity": "CRITICAL", "title": "CVE-2026-9999 - openssl", "score": 9.8,
                            "packageVulnerabilityDetails": [
                                "vulnerabilityId": "CVE-2026-9999", "sourceUrl": "https://example.com/CVE-2026-9999",
                                "vulnerablePackages": [["name": "openssl", "version": "3.0.0"]]
                            ] as [String: any Sendable]
                        ] as [String: any Sendable],
                        ["severity": "UNTRIAGED", "title": "something untriaged"]
                    ]
                ] as [String: any Sendable]
            ]
        ]
        try await world.moto.scriptScanFindings(repository: repository, responses: enhanced)
        let active = try await Self.scan(world, ["\(repository):v1", "--fail-on", "CRITICAL", "--output", "json"])
        #expect(active.status == 3, "\(active.combinedText)")
        #expect(active.stderrText.contains("PENDING"))
        let report = try #require(try JSONSerialization.jsonObject(with: active.stdout) as? [String: Any])
        #expect(report["status"] as? String == "ACTIVE")
        let findings = try #require(report["findings"] as? [[String: Any]])
        #expect(findings.first?["name"] as? String == "CVE-2026-9999")
        #expect(findings.first?["packageName"] as? String == "openssl")
        #expect(findings.count == 2)

        // Scans that end without findings are errors (exit 1, not 3), whatever the threshold.
        for (status, words) in [("FAILED", "could not scan"), ("UNSUPPORTED_IMAGE", "not supported"), ("FINDINGS_UNAVAILABLE", "no findings")] {
            try await world.moto.scriptScanFindings(
                repository: repository, responses: [["imageScanStatus": ["status": status, "description": "as scripted"]]])
            let result = try await Self.scan(world, ["\(repository):v1", "--fail-on", "CRITICAL"])
            #expect(result.status == 1, "\(status): \(result.combinedText)")
            #expect(result.stderrText.contains(status) && result.stderrText.contains(words), "\(result.stderrText)")
        }

        let missing = try await Self.scan(world, ["\(repository):nope"])
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("has no image"))
        let bad = try await Self.scan(world, ["\(repository):v1", "--fail-on", "SEVERE"])
        #expect(bad.status == 64)
    }

    /// `push --scan --fail-on`: the repository scans on push, so no scan is started; the image is pushed and printed
    /// whatever the verdict, and the exit status says it.
    @Test func pushWithScanGate() async throws {
        let world = try await World.start()
        defer { world.moto.stop() }
        let repository = BuildAndPushTests.uniqueName("push-scan")
        let pushed = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--create-repository", "--scan-on-push",
                "--registry", world.registry.hostPort, "--fail-on", "HIGH", "--transport", "ecr-api"
            ],
            environment: world.environment)
        #expect(pushed.status == 3, "\(pushed.combinedText)")
        #expect(pushed.stdoutText.hasPrefix("\(world.registry.hostPort)/\(repository):v1\n"), "the image is pushed and printed")
        #expect(pushed.stderrText.contains("CRITICAL 0, HIGH 1"))
        #expect(pushed.stderrText.contains("at or above HIGH"))
        #expect(try await world.moto.counts()["StartImageScan", default: 0] == 0, "the repository scanned on push")

        let json = try await ECRPushCLI.run(
            [
                "push", DockerDaemon.baseImage, "--repository", repository, "--tag", "v1", "--registry", world.registry.hostPort,
                "--scan", "--output", "json", "--transport", "ecr-api"
            ],
            environment: world.environment)
        #expect(json.status == 0, "--scan without --fail-on reports and passes: \(json.combinedText)")
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let scan = try #require(object["scan"] as? [String: Any])
        #expect(scan["imageDigest"] as? String == object["digest"] as? String)
        #expect((scan["severityCounts"] as? [String: Int])?["HIGH"] == 1)
    }
}
