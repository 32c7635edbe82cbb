/// At most `limit` services starting at once. A moto server spends seconds of CPU importing itself: dozens of
/// tests starting one each at the same moment on a 2-core machine starve each other past any readiness
/// timeout, while started ones sit idle. Waiting here comes before the readiness clock starts.
actor StartupGate {
    static let moto = StartupGate(limit: 3)

    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func enter() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }

    /// Runs `body` inside the gate.
    func through<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await enter()
        do {
            let value = try await body()
            leave()
            return value
        } catch {
            leave()
            throw error
        }
    }
}
