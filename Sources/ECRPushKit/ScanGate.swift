import AWSCore
import ECR
import Foundation

/// Gets an image's scan findings: starts a basic scan when none exists and the repository does not scan on
/// push, waits (polling DescribeImageScanFindings with backoff) until the findings can be judged, and reads
/// every page of them. The threshold itself is the caller's (`ScanReport.judge`).
package struct ScanGate: Sendable {
    package let ecr: ECRClient
    /// How long to wait for findings, counted in the pauses between polls.
    package var timeout: Duration = .seconds(600)
    package var firstPoll: Duration = .seconds(2)
    /// Backoff doubles up to this: a basic scan takes a minute or two, and each poll is a request ECR meters.
    package var maxPoll: Duration = .seconds(15)
    /// A repository that scans on push starts its own scan a moment after the push; after this long without one,
    /// ecrpush starts it (a push by an older client, or scan on push turned on afterwards).
    package var scanOnPushGrace: Duration = .seconds(30)
    package var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    package init(ecr: ECRClient) {
        self.ecr = ecr
    }

    /// The scan of `image` in `repository`, waited for when `wait` (else as it stands now, perhaps incomplete).
    package func scan(
        _ image: ECRImageID, in repository: Repository, registryId: String? = nil, registry: String? = nil, wait: Bool,
        onEvent: @Sendable (WorkflowEvent) -> Void = { _ in }
    ) async throws -> ScanReport {
        let name = repository.repositoryName
        // By digest from here on: a tag moved meanwhile must not switch the image under the gate.
        guard let detail = try await ecr.describeImage(image, repository: name, registryId: registryId) else {
            throw ECRPushError.imageNotFound(repository: name, image: image.description)
        }
        let digest = ECRImageID.digest(detail.imageDigest)
        let label = "\(name)@\(detail.imageDigest)"
        var waited: Duration = .zero
        var delay = firstPoll
        var started = false
        var saidWaitingForPush = false
        var lastStatus: String?
        while true {
            // ECR's largest page: most scans fit in one, and the pages that follow must ask for the same size.
            if let page = try await ecr.describeImageScanFindings(digest, repository: name, registryId: registryId, maxResults: 1000) {
                lastStatus = page.status
                let phase = ScanPhase.of(status: page.status, published: page.published)
                switch phase {
                case .done(let stale):
                    if stale {
                        onEvent(.info("warning: \(label): \(page.status): these findings are no longer kept up to date"))
                    }
                    return try await report(first: page, digest: detail, repository: name, registryId: registryId, registry: registry)
                case .unusable(let hint):
                    throw ECRPushError.scanUnusable(image: label, status: page.status, description: page.statusDescription, hint: hint)
                case .waiting:
                    guard wait else {
                        return ScanReport(
                            registry: registry, repository: name, imageDigest: detail.imageDigest, imageTags: detail.imageTags ?? [],
                            status: page.status, statusDescription: page.statusDescription, complete: false)
                    }
                    onEvent(.info("Scan of \(label): \(page.status) after \(Self.seconds(waited)) s; next look in \(Self.seconds(delay)) s"))
                }
            } else if !started && (!repository.scansOnPush || waited >= scanOnPushGrace) {
                try await start(digest, label: label, repository: name, registryId: registryId, onEvent: onEvent)
                started = true
                if !wait { continue }  // one more look: the scan's first status
            } else if !wait {
                return ScanReport(
                    registry: registry, repository: name, imageDigest: detail.imageDigest, imageTags: detail.imageTags ?? [],
                    status: started ? "IN_PROGRESS" : "NOT_STARTED",
                    statusDescription: started ? nil : "the repository scans on push; its scan has not started yet", complete: false)
            } else if !saidWaitingForPush && !started {
                saidWaitingForPush = true
                onEvent(.info("\(name) scans on push: waiting for the scan of \(label) to start"))
            }
            guard waited + delay <= timeout else {
                throw ECRPushError.scanTimedOut(
                    image: label, seconds: Int(timeout.components.seconds), status: lastStatus ?? (started ? "IN_PROGRESS" : "not started"))
            }
            try await sleep(delay)
            waited += delay
            delay = min(delay * 2, maxPoll)
        }
    }

    /// StartImageScan, or the reason ECR gives for not needing one (another scan covers the image: waiting is
    /// then all there is to do).
    private func start(
        _ digest: ECRImageID, label: String, repository: String, registryId: String?, onEvent: @Sendable (WorkflowEvent) -> Void
    ) async throws {
        do {
            let status = try await ecr.startImageScan(digest, repository: repository, registryId: registryId)
            onEvent(.info("Started a basic scan of \(label)\(status.map { " (\($0))" } ?? "")"))
        } catch let error as AWSError where error.code == ECRErrorCode.limitExceeded {
            // One basic scan per image per day: the one that ran (or runs) today is the one to wait for.
            onEvent(.info("\(label) was already scanned today (LimitExceededException): waiting for that scan's findings"))
        } catch let error as AWSError where error.code == ECRErrorCode.validation {
            // Enhanced scanning (Amazon Inspector) has no StartImageScan: it scans on its own, continuously.
            onEvent(.info("ECR refused StartImageScan (\(error.serviceDetails?.message ?? "ValidationException")): waiting for enhanced scanning"))
        } catch let error as AWSError where error.code == ECRErrorCode.unsupportedImageType {
            throw ECRPushError.scanUnusable(
                image: label, status: "UNSUPPORTED_IMAGE", description: error.serviceDetails?.message,
                hint: "ECR cannot scan this image type.")
        }
    }

    /// The complete report: the first page, then every further page of findings.
    private func report(
        first: ImageScanFindings, digest detail: ImageDetail, repository: String, registryId: String?, registry: String?
    ) async throws -> ScanReport {
        var findings = first.findings
        var token = first.nextToken
        while let next = token {
            guard
                let page = try await ecr.describeImageScanFindings(
                    .digest(detail.imageDigest), repository: repository, registryId: registryId, nextToken: next, maxResults: 1000)
            else { break }
            findings += page.findings
            token = page.nextToken
        }
        return ScanReport(
            registry: registry, repository: repository, imageDigest: detail.imageDigest, imageTags: detail.imageTags ?? [],
            status: first.status, statusDescription: first.statusDescription, complete: true, completedAt: first.completedAt,
            vulnerabilitySourceUpdatedAt: first.vulnerabilitySourceUpdatedAt, severityCounts: first.severityCounts, findings: findings)
    }

    static func seconds(_ duration: Duration) -> Int { Int(duration.components.seconds) }
}
