import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A new, empty directory with a short path under /tmp (unix socket paths must stay under 108 bytes),
/// removed when the value is released or `remove()` is called. Swift may release it right after its
/// last use, so keep it alive for as long as something else uses the path: `defer { directory.remove() }`.
package final class TemporaryDirectory: Sendable {
    package let url: URL
    package var path: String { url.path }

    /// Never fails in practice (mkdtemp under /tmp); if it does, the test process stops with the reason.
    package init(prefix: String = "tw") {
        do {
            url = URL(fileURLWithPath: try makeServiceDirectory(prefix: prefix), isDirectory: true)
        } catch {
            fatalError("TemporaryDirectory: \(error)")
        }
    }

    package func appending(_ component: String) -> URL { url.appendingPathComponent(component) }

    package func remove() { try? FileManager.default.removeItem(at: url) }

    deinit { remove() }
}

/// Creates a short-named directory under /tmp that is NOT removed automatically (services own it).
func makeServiceDirectory(prefix: String) throws -> String {
    var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
    let created = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!) }
    guard let created else {
        throw WorldError.launchFailed(program: "mkdtemp", reason: String(cString: strerror(errno)))
    }
    return String(cString: created)
}
