internal import CCurl

/// Sets options on an easy handle, remembering the first one curl refused (so configuration reads straight).
struct EasyOptions {
    let handle: UnsafeMutableRawPointer
    private(set) var firstFailure: (option: CURLoption, code: CURLcode)?

    init(_ handle: UnsafeMutableRawPointer) { self.handle = handle }

    mutating func long(_ option: CURLoption, _ value: Int) {
        record(option, ecr_curl_setopt_long(handle, option, value))
    }

    mutating func int64(_ option: CURLoption, _ value: Int64) {
        record(option, ecr_curl_setopt_int64(handle, option, curl_off_t(value)))
    }

    /// curl copies string options, so the temporary C string may go away afterwards.
    mutating func string(_ option: CURLoption, _ value: String) {
        record(option, ecr_curl_setopt_string(handle, option, value))
    }

    mutating func pointer(_ option: CURLoption, _ value: UnsafeMutableRawPointer?) {
        record(option, ecr_curl_setopt_pointer(handle, option, value))
    }

    mutating func list(_ option: CURLoption, _ value: UnsafeMutablePointer<curl_slist>?) {
        record(option, ecr_curl_setopt_slist(handle, option, value))
    }

    mutating func dataCallback(_ option: CURLoption, _ value: ecr_curl_data_callback) {
        record(option, ecr_curl_setopt_data_callback(handle, option, value))
    }

    mutating func xferinfoCallback(_ value: ecr_curl_xferinfo_callback) {
        record(CURLOPT_XFERINFOFUNCTION, ecr_curl_setopt_xferinfo_callback(handle, value))
    }

    mutating func seekCallback(_ value: ecr_curl_seek_callback) {
        record(CURLOPT_SEEKFUNCTION, ecr_curl_setopt_seek_callback(handle, value))
    }

    private mutating func record(_ option: CURLoption, _ code: CURLcode) {
        if code != CURLE_OK, firstFailure == nil { firstFailure = (option, code) }
    }
}
