internal import CCurl

/// libcurl's process-wide initialisation, done exactly once before the first easy handle exists.
enum CurlGlobal {
    /// Swift initialises a global exactly once and thread-safely (swift_once), which is what `curl_global_init`
    /// requires: it must not run concurrently with itself or with any other curl call.
    private static let initCode: UInt32 = ecr_curl_global_init(Int(CURL_GLOBAL_ALL)).rawValue

    static func ensureInitialized() throws {
        let code = initCode
        if code != CURLE_OK.rawValue {
            if let loadError = ecr_curl_load_error() {
                throw HTTPError.transport(
                    url: "-", code: Int(code),
                    detail: "libcurl could not be loaded (\(String(cString: loadError))): install libcurl 4 (Debian/Ubuntu: apt-get install libcurl4)"
                )
            }
            throw HTTPError.transport(
                url: "-", code: Int(code),
                detail: "libcurl could not initialise: \(CurlGlobal.message(for: code))")
        }
    }

    static func message(for code: UInt32) -> String {
        String(cString: ecr_curl_easy_strerror(CURLcode(rawValue: code)))
    }
}
