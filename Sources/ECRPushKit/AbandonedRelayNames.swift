import DockerEngine
import ImageExport

/// The names an ecrpush gave images for its relay and could not remove because it was killed (SIGKILL, the OOM
/// killer, a crash): found by the maker each name carries (`RelayNames.relayRepository`) and removed by a later push,
/// as `ScratchDirectories` does for export directories. Left in the Engine, such a name shows in `docker images` and
/// keeps its image from `docker image prune`, on every runner or laptop that keeps its images between jobs.
package enum AbandonedRelayNames {
    package struct Found: Sendable, Equatable {
        /// `127.0.0.1:<port>/ecrpush-relay.<owner>/<repository>:<tag>`, or its `@<digest>` reference.
        package let name: String
        /// The pid of the ecrpush that made it.
        package let pid: Int32
        package let outcome: Outcome
    }

    package enum Outcome: Sendable, Equatable {
        case removed
        /// Left: the image has no other tag, and removing its last would delete it.
        case lastTag
        /// Left: the Engine refused (its message).
        case refused(String)
    }

    /// Removes every relay name in `docker`'s Engine whose maker is certainly gone (`ProcessOwner.isAbandoned`: made
    /// in this pid namespace by a process that no longer runs), unless it is its image's last tag. Names of a push
    /// still running, of another pid namespace (a container sharing the Engine's socket), and every name ecrpush did
    /// not make are left alone. Best effort: an Engine that fails to answer leaves everything as it was.
    package static func remove(docker: DockerClient) async -> [Found] {
        // Only an Engine on a local socket is ever given a relay name (`EngineRelayPush.applies`).
        guard docker.host.socketPath != nil, ProcessOwner.current != nil, let images = try? await docker.listImages() else { return [] }
        var found: [Found] = []
        for image in images {
            let abandoned = (image.repoTags + image.repoDigests).compactMap { name -> (name: String, pid: Int32)? in
                RelayNames.owner(ofRelayName: name).flatMap { $0.isAbandoned ? (name, $0.pid) : nil }
            }
            guard !abandoned.isEmpty else { continue }
            let keepsAnotherTag = image.repoTags.contains { tag in !abandoned.contains { $0.name == tag } }
            for (name, pid) in abandoned {
                var outcome = Outcome.lastTag
                if keepsAnotherTag {
                    do {
                        try await docker.removeImage(name)
                        outcome = .removed
                    } catch DockerError.imageNotFound {
                        continue  // another push removed it meanwhile
                    } catch {
                        outcome = .refused("\(error)")
                    }
                }
                found.append(Found(name: name, pid: pid, outcome: outcome))
            }
        }
        return found
    }
}

extension AbandonedRelayNames.Found {
    /// The line on stderr.
    package var description: String {
        let made = "the name an ecrpush (pid \(pid)) that was killed gave an image for its relay"
        switch outcome {
        case .removed: return "Removed \(name), \(made)"
        case .lastTag:
            return "\(name), \(made), stays: it is the image's last tag, and removing it deletes the image (`docker rmi \(name)`)"
        case .refused(let message): return "\(name), \(made), stays: the Engine refused its removal (\(message))"
        }
    }
}
