import DockerEngine
import RegistryRelay
import Synchronization

/// `push`'s Engine push through the relay, started while the login is made (the image exists already): the Engine
/// names its layers, checks and compresses meanwhile, and its requests that need the destination wait for the
/// push's choice (`GatedRelayUpstream`). Its progress is held until then, so a push that goes another way shows
/// none of it. Only started where the Engine's push may be chosen (no export was asked ahead).
final class EngineRelayAhead: Sendable {
    private let gate = GatedRelayUpstream()
    private let held: HeldEvents
    private let task: Task<String?, any Error>

    private init(push: EngineRelayPush, image: ImageInspect, repository: String, tags: [String], onEvent: @escaping @Sendable (WorkflowEvent) -> Void)
    {
        let held = HeldEvents(onEvent)
        let gate = self.gate
        self.held = held
        task = Task {
            try await push.push(image: image, repository: repository, tags: tags, upstream: gate) { held.deliver($0) }
        }
    }

    static func start(
        docker: DockerClient, settings: ExportSettings, image: ImageInspect, repository: String, tags: [String],
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) -> EngineRelayAhead? {
        guard settings.engineRelay, EngineRelayPush.applies(to: image, docker: docker) else { return nil }
        return EngineRelayAhead(
            push: EngineRelayPush(docker: docker, settings: settings), image: image, repository: repository, tags: tags, onEvent: onEvent)
    }

    /// The Engine's push it is: into `upstream`. The manifest's digest, or nil when the Engine could not reach the
    /// relay (the caller has the Engine push to the registry itself).
    func proceed(to upstream: any RelayUpstream) async throws -> String? {
        held.release()
        gate.open(upstream)
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }

    /// Lets the Engine's uploads go on to `upstream` before the choice (`GatedRelayUpstream.openUploads`).
    func openUploads(to upstream: any RelayUpstream) { gate.openUploads(to: upstream) }

    /// Not the Engine's push after all: the relay refuses, the Engine's push ends, the names it gave the image go.
    func abandon() async {
        gate.refuse()
        task.cancel()
        _ = try? await task.value
    }
}

/// Events held until released (then delivered in order, and every later one at once); never, when not released.
final class HeldEvents: Sendable {
    private let onEvent: @Sendable (WorkflowEvent) -> Void
    private let state = Mutex<(released: Bool, held: [WorkflowEvent])>((false, []))

    init(_ onEvent: @escaping @Sendable (WorkflowEvent) -> Void) {
        self.onEvent = onEvent
    }

    func deliver(_ event: WorkflowEvent) {
        state.withLock { state in
            if state.released { onEvent(event) } else { state.held.append(event) }
        }
    }

    func release() {
        state.withLock { state in
            guard !state.released else { return }
            state.released = true
            for event in state.held { onEvent(event) }
            state.held = []
        }
    }
}
