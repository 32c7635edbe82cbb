import DockerEngine
import Foundation
import HTTPTransport
import ImageExport
import Synchronization

/// The names this process gave images in the Engine for its relay (`127.0.0.1:<port>/ecrpush-relay.<owner>/<repository>:<tag>`, and the
/// `…@<digest>` the Engine records once it pushed), from the moment they are made until they are removed. A push
/// removes its own as it ends; a forced exit (a second signal, or a push that did not stop in time) cannot wait for
/// that, and removes what is left here instead (`removeLeft`), or says what it could not.
package final class RelayNames: Sendable {
    /// The process's; a test makes its own.
    package static let shared = RelayNames()

    private struct Made: Sendable {
        let docker: DockerClient
        /// Names that appear later (the digest's, once the relay has the manifest).
        let later: @Sendable () -> [String]
        /// The Engine's tag request when it was made here (`tag`): a forced exit waits for its answer.
        let tagging: Task<Void, any Error>?
    }
    private struct State {
        var made: [String: Made] = [:]
        /// A forced exit took the names: nothing is tagged any more.
        var closed = false
    }
    private let state = Mutex(State())

    package init() {}

    /// The first path component of every relay name this process makes, before the maker's `ProcessOwner`.
    static let ownerPrefix = "ecrpush-relay."

    /// The relay's name for a push to `repository`, without the tag: `<host>/ecrpush-relay.<owner>/<repository>`. The
    /// owner (pid, start time, pid namespace) lets a later run remove the name when this process is killed before it
    /// can (`AbandonedRelayNames`); the relay ignores the repository the Engine names. Without an owner (no `/proc`),
    /// or where the name would pass the Engine's 255 characters, it is `<host>/<repository>`.
    package static func relayRepository(host: String, repository: String) -> String {
        guard let owner = ProcessOwner.current else { return "\(host)/\(repository)" }
        let marked = "\(host)/\(ownerPrefix)\(owner.nameComponent)/\(repository)"
        return marked.utf8.count <= 255 ? marked : "\(host)/\(repository)"
    }

    /// The maker written in a relay's name (a tag or a digest reference), nil for any other name.
    static func owner(ofRelayName name: String) -> ProcessOwner? {
        let parts = name.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].hasPrefix("127.0.0.1:"), parts[1].hasPrefix(ownerPrefix) else { return nil }
        return ProcessOwner(nameComponent: parts[1].dropFirst(ownerPrefix.count))
    }

    /// Names the image `source` `repository:tag` in `docker`'s Engine, recorded before the request goes. The Engine
    /// has written the tag some milliseconds before its answer arrives; a forced exit in between would otherwise
    /// find nothing recorded and leave the name behind. Throws the Engine's error (the name is then not recorded),
    /// or `CancellationError` once a forced exit has begun.
    package func tag(source: String, repository: String, tag: String, in docker: DockerClient) async throws {
        let name = "\(repository):\(tag)"
        let tagging = try state.withLock { state throws -> Task<Void, any Error> in
            guard !state.closed else { throw CancellationError() }
            // Not the caller's child: a Ctrl-C lets the Engine's answer arrive, and the name is removed with the rest.
            let tagging = Task { try await docker.tag(source: source, repository: repository, tag: tag) }
            state.made[name] = Made(docker: docker, later: { [] }, tagging: tagging)
            return tagging
        }
        do {
            try await tagging.value
        } catch {
            removed(name)
            throw error
        }
    }

    /// `name` (`repository:tag`) now exists in `docker`'s Engine; `later` gives names that may come with it.
    package func made(_ name: String, in docker: DockerClient, later: @escaping @Sendable () -> [String] = { [] }) {
        state.withLock { $0.made[name] = Made(docker: docker, later: later, tagging: nil) }
    }

    /// `name` was removed (or never made after all).
    package func removed(_ name: String) {
        _ = state.withLock { $0.made.removeValue(forKey: name) }
    }

    /// The names recorded now, with those that came with them.
    package var current: [String] {
        state.withLock { state in state.made.flatMap { [$0.key] + $0.value.later() } }.sorted()
    }

    /// Removes every name still recorded (a name being tagged once the Engine has answered), waiting at most
    /// `timeout`; returns those that may still exist (the Engine refused or did not answer in time). Blocks the
    /// calling thread: for a forced exit, on a thread that is not one of Swift's cooperative pool (the signal
    /// queue's), whose tasks do the removals.
    package func removeLeft(timeout: Duration) -> [String] {
        let left = state.withLock { state in
            defer {
                state.made.removeAll()
                state.closed = true
            }
            return state.made.map { ($0.value.docker, [$0.key] + $0.value.later(), $0.value.tagging) }
        }
        guard !left.isEmpty else { return [] }
        let removal = Removal(names: Set(left.flatMap(\.1)))
        Task.detached {
            await withTaskGroup(of: String?.self) { group in
                for (docker, names, tagging) in left {
                    for name in names {
                        group.addTask {
                            // Removed before the Engine wrote it, the name would still appear afterwards.
                            _ = await tagging?.result
                            do {
                                try await docker.removeImage(name)
                            } catch DockerError.imageNotFound {
                                // Gone already: the push's own removal got there first.
                            } catch {
                                return nil
                            }
                            return name
                        }
                    }
                }
                for await name in group { if let name { removal.removed(name) } }
            }
            removal.done.signal()
        }
        _ = removal.done.wait(timeout: .now() + .nanoseconds(Int(timeout.inSeconds * 1e9)))
        return removal.remaining
    }

    /// The names a forced exit's removal has not seen gone yet, shared with the thread that waits for it.
    private final class Removal: Sendable {
        let done = DispatchSemaphore(value: 0)
        private let left: Mutex<Set<String>>

        init(names: Set<String>) { left = Mutex(names) }

        func removed(_ name: String) { _ = left.withLock { $0.remove(name) } }

        var remaining: [String] { left.withLock { $0 }.sorted() }
    }
}
