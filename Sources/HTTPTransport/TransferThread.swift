import Foundation

/// Runs a blocking curl exchange on a thread of its own (never on Swift's cooperative pool, which blocking
/// transfers would starve) and bridges its result back; cancelling the task raises the flag the transfer's
/// progress callback checks, which aborts it.
enum TransferThread {
    static func run<Value: Sendable>(
        cancellation: CancellationFlag,
        _ work: @escaping @Sendable () throws -> Value
    ) async throws -> Value {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                let thread = Thread {
                    continuation.resume(with: Result { try work() })
                }
                thread.name = "ecrpush.http-transfer"
                thread.start()
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}
