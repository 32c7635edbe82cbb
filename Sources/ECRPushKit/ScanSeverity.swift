/// The severities a gate can be set at, lowest first. UNDEFINED (basic scanning) and UNTRIAGED (enhanced) are
/// not ranked: no threshold counts them.
package enum ScanSeverity: String, CaseIterable, Sendable, Codable, Comparable {
    case informational = "INFORMATIONAL"
    case low = "LOW"
    case medium = "MEDIUM"
    case high = "HIGH"
    case critical = "CRITICAL"

    private var rank: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }

    /// The severity ECR wrote, in any case; nil for UNDEFINED, UNTRIAGED and anything unknown.
    package static func of(_ text: String) -> ScanSeverity? { ScanSeverity(rawValue: text.uppercased()) }
}

/// What an `imageScanStatus.status` means for someone waiting on findings, as the ECR API reference describes
/// ImageScanStatus (basic: IN_PROGRESS, COMPLETE, FAILED, UNSUPPORTED_IMAGE; enhanced, Amazon Inspector: PENDING,
/// ACTIVE, SCAN_ELIGIBILITY_EXPIRED, FINDINGS_UNAVAILABLE; either: LIMIT_EXCEEDED, IMAGE_ARCHIVED).
package enum ScanPhase: Sendable, Equatable {
    /// The findings are there to judge; `stale` when they are no longer kept up to date.
    case done(stale: Bool)
    case waiting
    /// The scan ended without findings to judge; `hint` says what it means and what to do.
    case unusable(hint: String)

    /// `published`: the answer had an `imageScanFindings` object. Enhanced scanning can say COMPLETE (or ACTIVE)
    /// before Inspector has published any: that is still waiting, else a gate would pass on findings not yet there.
    package static func of(status: String, published: Bool) -> ScanPhase {
        switch status {
        case "COMPLETE", "ACTIVE": return published ? .done(stale: false) : .waiting
        case "SCAN_ELIGIBILITY_EXPIRED": return published ? .done(stale: true) : unusable(status)
        case "IN_PROGRESS", "PENDING": return .waiting
        default: return unusable(status)
        }
    }

    private static func unusable(_ status: String) -> ScanPhase {
        switch status {
        case "FAILED":
            return .unusable(hint: "ECR could not scan the image; try again later (ECR allows one basic scan per image per day).")
        case "UNSUPPORTED_IMAGE":
            return .unusable(
                hint: "ECR cannot scan this image: its media type, operating system or package manager is not supported (basic scanning "
                    + "reads the package database of a supported distribution; scratch and busybox images have none).")
        case "FINDINGS_UNAVAILABLE":
            return .unusable(hint: "Enhanced scanning has no findings for this image (not eligible, or no longer monitored).")
        case "SCAN_ELIGIBILITY_EXPIRED":
            return .unusable(
                hint: "The image is no longer eligible for enhanced scanning and has no findings (see the registry's scan duration setting).")
        case "LIMIT_EXCEEDED":
            return .unusable(hint: "A scanning quota was exceeded: try again later.")
        case "IMAGE_ARCHIVED":
            return .unusable(hint: "The image is archived: restore it before scanning it.")
        default:
            return .unusable(hint: "ecrpush does not know this status: look at the image's scan in the ECR console.")
        }
    }
}
