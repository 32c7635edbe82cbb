import Foundation

// TestWorld is a regular target, so a plain `swift build` (release, all targets) compiles it without the test
// toolchain's search paths, where Testing cannot be imported; only test builds need the cancellation.
#if canImport(Testing)
import Testing
#endif

/// The switch for a quick inner loop: `ECRPUSH_SKIP_LIVE_TESTS=1 swift test` (or `make test-quick`) cancels every
/// test that would start moto, a registry or dockerd, the minute-long part of the suite; the rest still runs.
/// `make test` and CI never set it, so they run everything.
package enum LiveWorld {
    package static let variable = "ECRPUSH_SKIP_LIVE_TESTS"

    package static var isSkipped: Bool {
        guard let value = ProcessInfo.processInfo.environment[variable] else { return false }
        return !["", "0", "false", "no"].contains(value.lowercased())
    }

    /// Called by every starter of the live world: under the switch, the calling test ends as cancelled (reported
    /// as skipped, never as passed).
    package static func require(_ component: String) throws {
        guard isSkipped else { return }
        #if canImport(Testing)
        try Test.cancel("needs \(component); \(variable) is set")
        #endif
    }
}
