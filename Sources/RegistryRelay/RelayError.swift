import Foundation

/// What can go wrong in the relay itself (the destination's own failures keep their clients' errors).
package enum RelayError: Error, CustomStringConvertible, Equatable {
    /// No socket on the loopback interface: the Engine's push then goes straight to the registry.
    case cannotListen(String)
    /// The temporary file an upload is written to.
    case spool(path: String, errno: Int32)
    /// The Engine gave an upload up, or its bytes were not the digest it named: nothing of it may be kept.
    case uploadAbandoned

    package var description: String {
        switch self {
        case .cannotListen(let reason):
            "ecrpush could not listen on 127.0.0.1 for the Engine's push (\(reason))"
        case .spool(let path, let code):
            "ecrpush could not write the Engine's upload to \(path) (\(String(cString: strerror(code)))); "
                + "check the space and permissions of the temporary directory (TMPDIR)"
        case .uploadAbandoned:
            "the Engine's upload to ecrpush's relay was abandoned, or its bytes were not the digest it named"
        }
    }
}
