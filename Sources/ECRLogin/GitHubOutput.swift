import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The file GitHub Actions names in `$GITHUB_OUTPUT`, where a step leaves `name=value` lines for later steps.
package enum GitHubOutput {
    /// Appends `text` as a shell's `>>` would: the file is created when missing (0666 less the umask), and
    /// whatever it holds is kept. Runners create it before the step; a local run or a wrapper script often
    /// names one that does not exist yet, and refusing that would fail a step whose work is done.
    package static func append(_ text: String, to path: String) throws(ECRLoginError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            throw .gitHubOutputUnwritable(path: path, detail: "cannot open it for appending: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                throw .gitHubOutputUnwritable(path: path, detail: "cannot write to it: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }
}
