import DockerEngine
import RegistryRelay
import Synchronization

/// The image's name for the relay (`127.0.0.1:<port>/ecrpush-relay.<owner>/<repository>:<tag>`, `RelayNames`), made while the command line is read: the
/// Engine takes 10-25 ms to write a tag (its reference store), which a push through the relay otherwise pays between
/// the relay's start and the Engine's push. The port is the one of the listener bound ahead (`RegistryRelay`).
///
/// The push takes the name where it is the one it needs (`take`), and its relay removes it as it removes its own.
/// Whatever else happens (a command line that turns out wrong, a push that goes another way or fails before its
/// relay starts, a signal), the command removes it before it exits (`undo`): nothing is left behind.
package final class RelayNameAhead: Sendable {
    /// The process's; a test makes its own.
    @TaskLocal package static var current = RelayNameAhead()

    private struct Pending: Sendable {
        let docker: DockerClient
        let source: String
        let tag: String
        /// The repository part of the name (with the relay's host), once the Engine has tagged the image; nil when
        /// no port was known or the Engine refused.
        let named: Task<String?, Never>
    }
    private let pending = Mutex<Pending?>(nil)

    package init() {}

    /// Names `source` (a tagged name the image keeps when this name goes) `127.0.0.1:<port>/<repository>:<tag>` once
    /// `port` gives the listener's port. Once per process: a second call changes nothing.
    package func start(docker: DockerClient, source: String, repository: String, tag: String, port: @escaping @Sendable () async -> Int?) {
        pending.withLock { pending in
            guard pending == nil else { return }
            let named = Task<String?, Never> {
                guard let port = await port() else { return nil }
                let name = RelayNames.relayRepository(host: RegistryRelay.host(port: port), repository: repository)
                do {
                    try await RelayNames.shared.tag(source: source, repository: name, tag: tag, in: docker)
                    return name
                } catch {
                    // The push tags the image itself and meets the Engine's error then.
                    return nil
                }
            }
            pending = Pending(docker: docker, source: source, tag: tag, named: named)
        }
    }

    /// Whether `source` (the name the image was named from, or the image's ID) is named `<repository>:<tag>` already,
    /// made ahead: the caller then owns the name (and removes it with its own). False otherwise, and a name made ahead
    /// for something else stays for `undo`.
    package func take(source: String, repository: String, tag: String) async -> Bool {
        guard let candidate = pending.withLock({ $0 }), candidate.tag == tag, await candidate.named.value == repository else { return false }
        if candidate.source != source {
            // An ID: the name made ahead must be on that very image (its source name may have moved since).
            guard source.hasPrefix("sha256:"),
                (try? await candidate.docker.inspectImage("\(repository):\(tag)")).flatMap({ $0?.id }) == source
            else { return false }
        }
        return pending.withLock { pending in
            // Taken once: by the first of two callers, should there be two.
            guard pending?.named == candidate.named else { return false }
            pending = nil
            return true
        }
    }

    /// Removes the name made ahead that no push took (waiting for the Engine to have made it).
    package func undo() async {
        guard
            let left = pending.withLock({ pending in
                defer { pending = nil }
                return pending
            })
        else { return }
        guard let repository = await left.named.value else { return }
        try? await left.docker.removeImage("\(repository):\(left.tag)")
        RelayNames.shared.removed("\(repository):\(left.tag)")
    }
}
