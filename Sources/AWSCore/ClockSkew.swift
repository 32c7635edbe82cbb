import Foundation
import Synchronization

/// Keeps the offset between the local clock and AWS's, learned from a skew error's `Date` header,
/// so that signatures made on a machine with a wrong clock are accepted after one correction.
package final class ClockSkew: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    package init() {}

    /// Starts with a known offset: for tests that play a machine whose clock is wrong.
    package init(initialOffset: TimeInterval) {
        offset.withLock { $0 = initialOffset }
    }

    package func now() -> Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    package var currentOffset: TimeInterval { offset.withLock { $0 } }

    /// Errors AWS gives for a request signed with a time too far from its own.
    static let skewCodes: Set<String> = [
        "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
        "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure"
    ]

    /// Learns the offset when `error` is a skew error and the server's date is more than 4 minutes away.
    /// Returns true when a retry with the corrected clock is worth it.
    func correct(for error: ServiceErrorDetails, serverDate: Date?) -> Bool {
        guard Self.skewCodes.contains(error.code), let serverDate else { return false }
        let difference = serverDate.timeIntervalSince(Date())
        let current = currentOffset
        guard abs(difference - current) > 240 else { return false }
        offset.withLock { $0 = difference }
        return true
    }
}
