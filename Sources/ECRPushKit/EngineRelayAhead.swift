import DockerEngine
import RegistryRelay
import Synchronization

/// `push`'s Engine push through the relay, started while the login is made (the image exists already): the Engine
/// names its layers, checks and compresses meanwhile, and its requests that need the destination wait for the
/// push's choice (`GatedRelayUpstream`). Its progress is held until then, so a push that goes another way shows
/// none of it. Only asked to push where the Engine's push may be chosen (no export was asked ahead).
///
/// It starts before the push knows whether the relay suits it (that takes the image's ancestor, from the Engine's
/// list of images), and for an image `push` was given by its tag, before the Engine has described it: the relay's
/// listener and the image's name for it (a tag, which the Engine takes 10-25 ms to write) are made meanwhile, and the
/// Engine is asked to push once the push `confirm`s. `abandon` gives it up at any point.
final class EngineRelayAhead: Sendable {
    private let gate = GatedRelayUpstream()
    private let held: HeldEvents
    private let decision = RelayDecision()
    private let task: Task<String?, any Error>

    private init(push: EngineRelayPush, source: String, repository: String, tags: [String], onEvent: @escaping @Sendable (WorkflowEvent) -> Void) {
        let held = HeldEvents(onEvent)
        let (gate, decision) = (self.gate, self.decision)
        self.held = held
        task = Task {
            try await push.push(source: source, repository: repository, tags: tags, upstream: gate, proceed: { await decision.value }) {
                held.deliver($0)
            }
        }
    }

    /// `source`: the image's ID, or a name it keeps when the relay's goes (see `ImagePush.startRelayAhead`).
    static func start(
        docker: DockerClient, settings: ExportSettings, source: String, repository: String, tags: [String],
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) -> EngineRelayAhead? {
        // An Engine on `tcp://` has a loopback of its own (`EngineRelayPush.applies`).
        guard settings.engineRelay, docker.host.socketPath != nil else { return nil }
        return EngineRelayAhead(
            push: EngineRelayPush(docker: docker, settings: settings), source: source, repository: repository, tags: tags, onEvent: onEvent)
    }

    /// Whether `reference` names an image by a tag (`app:v4`), which the image keeps when the relay's name goes: not
    /// an image ID (`afb314d6ac06`, `sha256:…`) nor a digest reference, which an image may hold without any tag (and
    /// removing the relay's name from an image with no other would remove the image).
    static func isTaggedName(_ reference: String) -> Bool {
        guard let parsed = try? ImageReference(parsing: reference) else { return false }
        return parsed.tag != nil && parsed.digest == nil && parsed.repository != "sha256"
    }

    /// The relay suits the push: the Engine is asked to push (to the relay, whose answers that need the
    /// destination wait for `proceed` or `openUploads`).
    func confirm() { decision.settle(true) }

    /// The Engine's push it is: into `upstream`. The manifest's digest, or nil when the Engine could not reach the
    /// relay (the caller has the Engine push to the registry itself).
    func proceed(to upstream: any RelayUpstream) async throws -> String? {
        decision.settle(true)
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
        decision.settle(false)
        gate.refuse()
        task.cancel()
        _ = try? await task.value
    }
}

/// Whether the Engine's push through the relay goes ahead, settled once; awaited by the push.
final class RelayDecision: Sendable {
    private let state = Mutex<(value: Bool?, waiters: [CheckedContinuation<Bool, Never>])>((nil, []))

    var value: Bool {
        get async {
            await withCheckedContinuation { continuation in
                let settled: Bool? = state.withLock { state in
                    if let value = state.value { return value }
                    state.waiters.append(continuation)
                    return nil
                }
                if let settled { continuation.resume(returning: settled) }
            }
        }
    }

    /// The first call decides; later ones change nothing.
    func settle(_ value: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: value) }
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
