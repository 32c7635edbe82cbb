/// What can go wrong with BuildKit's progress trace or the build session, with what to do about it. A secret's
/// value never appears in a description: only its id and where it was to come from.
package enum BuildKitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A `moby.buildkit.trace` line whose payload is not base64 of a protobuf StatusResponse.
    case malformedTrace(String)
    /// The Engine refused or did not understand `POST /session`.
    case sessionRefused(status: Int, detail: String)
    /// The connection for the session could not be made or broke while it was set up.
    case sessionConnection(engine: String, detail: String)
    /// A `--secret` whose source cannot be read: a missing file or an unset variable.
    case secretUnavailable(id: String, source: String, detail: String)

    package var description: String {
        switch self {
        case .malformedTrace(let detail):
            return "the Engine sent a BuildKit progress line that could not be read (\(detail))"
        case .sessionRefused(let status, let detail):
            return "the Docker Engine refused the build session (HTTP \(status)): \(detail); BuildKit needs Docker 18.09 or later "
                + "(or use --builder classic)"
        case .sessionConnection(let engine, let detail):
            return "could not open a build session on \(engine): \(detail)"
        case .secretUnavailable(let id, let source, let detail):
            return "secret '\(id)' from \(source): \(detail)"
        }
    }
}
