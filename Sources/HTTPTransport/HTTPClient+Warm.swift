import Foundation

extension HTTPClient {
    /// Loads libcurl now, on a thread of its own, for a command certain to make requests: its first request then
    /// finds libcurl loaded instead of waiting for the dynamic loader (some thirty libraries) on the critical path.
    /// Commands that may answer without a request (a credential helper `get` from the token cache) do not call it.
    package static func loadInBackground() {
        Thread.detachNewThread { _ = try? CurlGlobal.ensureInitialized() }
    }

    /// Loads libcurl now, on the calling thread, when the command's first request is its critical path and nothing
    /// else needs the CPU meanwhile.
    package static func loadNow() {
        _ = try? CurlGlobal.ensureInitialized()
    }
}
