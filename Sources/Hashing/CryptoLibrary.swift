internal import CCryptoShim

/// libcrypto as a process uses it.
package enum CryptoLibrary {
    /// Initialises libcrypto so that it keeps its state until the process is gone: OpenSSL otherwise frees it in an
    /// `atexit` handler, under any thread still inside libcrypto (libcurl loading in the background, a transfer in
    /// flight), and a command that exits early (an argument error) would then crash instead of exiting with its
    /// status. Call first thing in `main`, before any other thread starts: the first initialisation decides.
    @discardableResult
    package static func keepStateUntilExit() -> Bool {
        ecr_crypto_init_without_exit_cleanup() == 1
    }
}
