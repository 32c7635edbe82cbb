internal import CCryptoShim

package enum HMACSHA256 {
    /// HMAC-SHA256 of `data` under `key` (RFC 2104 over libcrypto).
    package static func authenticationCode(key: [UInt8], data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let ok = key.withUnsafeBytes { keyBuffer in
            data.withUnsafeBytes { dataBuffer in
                ecr_hmac_sha256(keyBuffer.baseAddress, keyBuffer.count, dataBuffer.baseAddress, dataBuffer.count, &out)
            }
        }
        precondition(ok == 1, "libcrypto HMAC-SHA256 failed")
        return out
    }

    package static func authenticationCode(key: [UInt8], data: String) -> [UInt8] {
        authenticationCode(key: key, data: Array(data.utf8))
    }
}
