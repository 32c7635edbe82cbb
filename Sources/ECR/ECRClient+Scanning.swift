import AWSCore
import Foundation

/// One vulnerability, from basic scanning (`findings`) or enhanced scanning (Amazon Inspector, `enhancedFindings`).
package struct ScanFinding: Sendable, Equatable, Codable {
    /// The vulnerability id (CVE-…); enhanced findings without one use their title.
    package var name: String
    /// CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED (basic) or UNTRIAGED (enhanced).
    package var severity: String
    package var description: String?
    package var uri: String?
    package var packageName: String?
    package var packageVersion: String?
    /// Enhanced scanning's score (CVSS).
    package var score: Double?

    package init(
        name: String, severity: String, description: String? = nil, uri: String? = nil, packageName: String? = nil,
        packageVersion: String? = nil, score: Double? = nil
    ) {
        self.name = name
        self.severity = severity
        self.description = description
        self.uri = uri
        self.packageName = packageName
        self.packageVersion = packageVersion
        self.score = score
    }
}

/// One page of DescribeImageScanFindings.
package struct ImageScanFindings: Sendable, Equatable {
    package var imageDigest: String?
    /// ECR's `imageScanStatus.status`, as sent (see `ScanStatus` in ECRPushKit for what each means).
    package var status: String
    package var statusDescription: String?
    /// Whether the answer had an `imageScanFindings` object at all (enhanced scanning can report COMPLETE first).
    package var published: Bool
    package var completedAt: Date?
    package var vulnerabilitySourceUpdatedAt: Date?
    /// Every finding of the scan by severity (not only this page's).
    package var severityCounts: [String: Int]
    package var findings: [ScanFinding]
    package var nextToken: String?
}

extension ECRClient {
    private struct ScanInput: Encodable {
        var registryId: String?
        var repositoryName: String
        var imageId: ECRImageID
    }
    private struct StartScanOutput: Decodable {
        struct Status: Decodable { var status: String?; var description: String? }
        var imageScanStatus: Status?
    }

    /// Starts a basic scan (ECR allows one per image per day: `LimitExceededException` after that); returns
    /// the status ECR reports, usually IN_PROGRESS.
    package func startImageScan(_ image: ECRImageID, repository: String, registryId: String? = nil) async throws -> String? {
        try ECRValidation.validateRepositoryName(repository)
        try image.validate()
        let output = try await call(
            "StartImageScan", ScanInput(registryId: registryId, repositoryName: repository, imageId: image), as: StartScanOutput.self)
        return output.imageScanStatus?.status
    }

    private struct FindingsInput: Encodable {
        var registryId: String?
        var repositoryName: String
        var imageId: ECRImageID
        var nextToken: String?
        var maxResults: Int?
    }
    private struct FindingsOutput: Decodable {
        struct Status: Decodable { var status: String?; var description: String? }
        struct ID: Decodable { var imageDigest: String? }
        struct Findings: Decodable {
            struct Attribute: Decodable { var key: String?; var value: String? }
            struct Basic: Decodable {
                var name: String?; var description: String?; var uri: String?; var severity: String?; var attributes: [Attribute]?
            }
            struct Enhanced: Decodable {
                struct Details: Decodable {
                    struct Package: Decodable { var name: String?; var version: String? }
                    var vulnerabilityId: String?; var sourceUrl: String?; var vulnerablePackages: [Package]?
                }
                var title: String?; var description: String?; var severity: String?; var score: Double?
                var packageVulnerabilityDetails: Details?
            }
            var imageScanCompletedAt: FlexibleTimestamp?
            var vulnerabilitySourceUpdatedAt: FlexibleTimestamp?
            var findingSeverityCounts: [String: Int]?
            var findings: [Basic]?
            var enhancedFindings: [Enhanced]?
        }
        var imageId: ID?
        var imageScanStatus: Status?
        var imageScanFindings: Findings?
        var nextToken: String?
    }

    /// One page of the scan's findings (up to `maxResults`, ECR's limit is 1000), or nil when the image has
    /// never been scanned (`ScanNotFoundException`).
    package func describeImageScanFindings(
        _ image: ECRImageID, repository: String, registryId: String? = nil, nextToken: String? = nil, maxResults: Int? = nil
    ) async throws -> ImageScanFindings? {
        try ECRValidation.validateRepositoryName(repository)
        try image.validate()
        let output: FindingsOutput
        do {
            output = try await call(
                "DescribeImageScanFindings",
                FindingsInput(registryId: registryId, repositoryName: repository, imageId: image, nextToken: nextToken, maxResults: maxResults),
                as: FindingsOutput.self)
        } catch let error as AWSError where error.code == ECRErrorCode.scanNotFound {
            return nil
        }
        let found = output.imageScanFindings
        let basic = (found?.findings ?? []).map { finding in
            let attributes = Dictionary((finding.attributes ?? []).compactMap { a in a.key.map { ($0, a.value ?? "") } }) { first, _ in first }
            return ScanFinding(
                name: finding.name ?? "(unnamed)", severity: finding.severity ?? "UNDEFINED", description: finding.description,
                uri: finding.uri, packageName: attributes["package_name"], packageVersion: attributes["package_version"],
                score: attributes["CVSS3_SCORE"].flatMap(Double.init) ?? attributes["CVSS2_SCORE"].flatMap(Double.init))
        }
        let enhanced = (found?.enhancedFindings ?? []).map { finding in
            let details = finding.packageVulnerabilityDetails
            let package = details?.vulnerablePackages?.first
            return ScanFinding(
                name: details?.vulnerabilityId ?? finding.title ?? "(unnamed)", severity: finding.severity ?? "UNTRIAGED",
                description: finding.description, uri: details?.sourceUrl, packageName: package?.name, packageVersion: package?.version,
                score: finding.score)
        }
        return ImageScanFindings(
            imageDigest: output.imageId?.imageDigest, status: output.imageScanStatus?.status ?? "UNKNOWN",
            statusDescription: output.imageScanStatus?.description, published: found != nil, completedAt: found?.imageScanCompletedAt?.date,
            vulnerabilitySourceUpdatedAt: found?.vulnerabilitySourceUpdatedAt?.date,
            severityCounts: found?.findingSeverityCounts ?? [:], findings: basic + enhanced, nextToken: output.nextToken)
    }
}

/// A JSON 1.1 timestamp: epoch seconds as AWS sends them, or ISO 8601 text as some emulators (moto) do.
struct FlexibleTimestamp: Decodable {
    var date: Date?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seconds = try? container.decode(Double.self) {
            date = Date(timeIntervalSince1970: seconds)
        } else if let text = try? container.decode(String.self) {
            date = Timestamps.parseISO8601(text)
        }
    }
}
