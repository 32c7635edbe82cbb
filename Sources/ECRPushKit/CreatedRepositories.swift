import ECR
import Synchronization

/// The repositories one run created (`--create-repository`), so that a build that fails leaves none of them behind
/// empty: the repository is made while the login is under way, before the build, and a failed build (or a Ctrl-C
/// during it) would otherwise leave it for the next run to find, with its settings (tag mutability, scanning) chosen
/// by a run that pushed nothing.
package final class CreatedRepositories: Sendable {
    private struct Created: Sendable {
        let ecr: ECRClient
        let destination: PushDestination
    }
    private let created = Mutex<[Created]>([])

    package init() {}

    func record(_ destination: PushDestination, ecr: ECRClient) {
        created.withLock { $0.append(Created(ecr: ecr, destination: destination)) }
    }

    /// Runs `produce` (the build); when it fails, removes the repositories created so far and rethrows its error.
    func removingOnFailure<Value>(
        of produce: () async throws -> Value, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> Value {
        do {
            return try await produce()
        } catch {
            await removeAll(onEvent: onEvent)
            throw error
        }
    }

    /// Deletes each repository recorded, on a task of its own: a cancelled run (Ctrl-C) removes them all the same.
    /// ECR deletes only an empty repository, so one that something else pushed to meanwhile stays.
    private func removeAll(onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async {
        let taken = created.withLock { created in
            defer { created.removeAll() }
            return created
        }
        guard !taken.isEmpty else { return }
        await Task.detached {
            await withTaskGroup(of: Void.self) { group in
                for entry in taken {
                    group.addTask {
                        let name = entry.destination.repository
                        do {
                            try await entry.ecr.deleteRepository(name: name, registryId: entry.destination.registryId)
                            onEvent(.info("Removed repository \(name), which this run created: the build did not finish"))
                        } catch {
                            onEvent(
                                .info(
                                    "Repository \(name), which this run created, stays although the build did not finish (\(error)); "
                                        + "`aws ecr delete-repository --repository-name \(name)` removes it"))
                        }
                    }
                }
            }
        }.value
    }
}
