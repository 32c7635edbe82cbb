import Synchronization

/// Whether the registry has answered this client at all, and the failure that made a request give up on it before
/// it ever did. A registry that refuses every connection from the start is down or out of reach (a firewall, a
/// proxy, a wrong endpoint), not hiccuping: once one request has spent its retries on it, the others stop retrying
/// too, so the push fails in seconds where every request (and, through ecrpush's relay, each of the Engine's own
/// retries) would spend its whole schedule, a minute or more of retry lines. Once the registry has answered, a
/// transport failure is a hiccup and is retried as ever. Shared by copies of a client.
final class RegistryReachability: Sendable {
    private struct State {
        var answered = false
        var unreachable: String?
    }
    private let state = Mutex(State())

    /// The registry answered (any status): it can be reached.
    func answered() {
        state.withLock { $0.answered = true }
    }

    /// Why a request gave up on a registry that has never answered; nil while there is hope.
    var unreachable: String? {
        state.withLock { $0.answered ? nil : $0.unreachable }
    }

    /// A request spent its retries on transport failures (`detail`); it counts only while nothing has answered.
    func gaveUp(_ detail: String) {
        state.withLock { if !$0.answered, $0.unreachable == nil { $0.unreachable = detail } }
    }
}
