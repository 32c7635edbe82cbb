import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes a script tests will execute, through a close-on-exec descriptor: a child another test spawns at that
/// moment (the long-lived motoworld, started through Foundation's Process) must not inherit the file open for
/// writing, or executing the script fails with "Text file busy" for as long as that child lives.
package func writeExecutable(_ text: String, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
    guard fd >= 0 else { throw WorldError.launchFailed(program: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
        guard written > 0 else { throw WorldError.launchFailed(program: path, reason: String(cString: strerror(errno))) }
        offset += written
    }
    fchmod(fd, 0o755)
}
