import Foundation

/// The temporary directory that holds one export's compressed layers. Removed by `remove()` or when the
/// last owner lets go of it (the reader while it runs, then the `ExportedImage` values it produced). The relay's
/// uploads from the Engine are spooled in one too (`EngineRelayPush`).
package final class ScratchDirectory: Sendable {
    /// Every scratch directory's name starts so; `ProcessOwner` explains the rest.
    static let namePrefix = "ecrpush-export."

    package let path: String

    /// Creates a new, uniquely named directory under `parent` (default: the system temporary directory), named after
    /// this process so that a later run can remove it if this one is killed before it could.
    package init(parent: URL?) throws {
        let base = (parent ?? FileManager.default.temporaryDirectory).path
        let owner = ProcessOwner.current.map { "\($0.nameComponent)." } ?? ""
        var template = Array("\(base)/\(Self.namePrefix)\(owner)XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else { throw BlobFile.error(errno, path: base, operation: "create a temporary directory in") }
        path = String(cString: created)
    }

    /// Removes the directory and everything in it; harmless if already gone.
    package func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit { remove() }
}
