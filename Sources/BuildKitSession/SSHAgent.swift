import Foundation

/// An SSH agent the session forwards to `RUN --mount=type=ssh[,id=ID]` (`--ssh ID=SOCKET`; the id `default` is what
/// a mount without `id=` asks for). Only the socket's path is held; each connection a build step makes is carried
/// to a new connection to this socket, read-only (see `SSHAgentProtocol`).
package struct SSHAgent: Sendable, Equatable {
    package static let defaultID = "default"

    package var id: String
    package var socketPath: String

    package init(id: String = SSHAgent.defaultID, socketPath: String) {
        self.id = id
        self.socketPath = socketPath
    }

    /// Whether `path` is a unix socket (an agent), as opposed to a missing or ordinary file.
    package static func isSocket(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }
}
