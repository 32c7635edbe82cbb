/// What a line of push progress says: parsed once from the Engine's text (`docker push`'s words), or set by
/// ecrpush's own transports. `description` gives back the words exactly as docker prints them.
package enum PushStatus: Sendable, Equatable, CustomStringConvertible {
    case preparing
    case waiting
    case pushing
    case pushed
    /// The registry has the blob: nothing was uploaded.
    case alreadyExists
    /// Mounted from another repository of the same registry (`source` is that repository).
    case mounted(from: String)
    /// Copied from another registry (`source` is `registry/repository` there), by ecrpush's own transports.
    case copied(from: String)
    /// Anything else the Engine sends ("The push refers to repository [...]", "<tag>: digest: ... size: N",
    /// "Retrying in 5 seconds"), kept as sent.
    case other(String)

    private static let mountedPrefix = "Mounted from "
    private static let copiedPrefix = "Copied from "

    /// The Engine's status text, as one of the states ecrpush knows or `.other`.
    package init(_ text: String) {
        switch text {
        case "Preparing": self = .preparing
        case "Waiting": self = .waiting
        case "Pushing": self = .pushing
        case "Pushed": self = .pushed
        case "Layer already exists": self = .alreadyExists
        default:
            if text.hasPrefix(Self.mountedPrefix), text.count > Self.mountedPrefix.count {
                self = .mounted(from: String(text.dropFirst(Self.mountedPrefix.count)))
            } else if text.hasPrefix(Self.copiedPrefix), text.count > Self.copiedPrefix.count {
                self = .copied(from: String(text.dropFirst(Self.copiedPrefix.count)))
            } else {
                self = .other(text)
            }
        }
    }

    package var description: String {
        switch self {
        case .preparing: return "Preparing"
        case .waiting: return "Waiting"
        case .pushing: return "Pushing"
        case .pushed: return "Pushed"
        case .alreadyExists: return "Layer already exists"
        case .mounted(let source): return Self.mountedPrefix + source
        case .copied(let source): return Self.copiedPrefix + source
        case .other(let text): return text
        }
    }
}
