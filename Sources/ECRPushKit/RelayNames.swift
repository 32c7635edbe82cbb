import DockerEngine
import Foundation
import HTTPTransport
import Synchronization

/// The names this process gave images in the Engine for its relay (`127.0.0.1:<port>/<repository>:<tag>`, and the
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
    }
    private let made = Mutex<[String: Made]>([:])

    package init() {}

    /// `name` (`repository:tag`) now exists in `docker`'s Engine; `later` gives names that may come with it.
    package func made(_ name: String, in docker: DockerClient, later: @escaping @Sendable () -> [String] = { [] }) {
        made.withLock { $0[name] = Made(docker: docker, later: later) }
    }

    /// `name` was removed (or never made after all).
    package func removed(_ name: String) {
        _ = made.withLock { $0.removeValue(forKey: name) }
    }

    /// The names recorded now, with those that came with them.
    package var current: [String] {
        made.withLock { made in made.flatMap { [$0.key] + $0.value.later() } }.sorted()
    }

    /// Removes every name still recorded, waiting at most `timeout`; returns those that may still exist (the Engine
    /// refused or did not answer in time). Blocks the calling thread: for a forced exit, on a thread that is not one
    /// of Swift's cooperative pool (the signal queue's), whose tasks do the removals.
    package func removeLeft(timeout: Duration) -> [String] {
        let left = made.withLock { made in
            defer { made.removeAll() }
            return made.map { ($0.value.docker, [$0.key] + $0.value.later()) }
        }
        guard !left.isEmpty else { return [] }
        let removal = Removal(names: Set(left.flatMap(\.1)))
        Task.detached {
            await withTaskGroup(of: String?.self) { group in
                for (docker, names) in left {
                    for name in names {
                        group.addTask {
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
