import DockerEngine
import Foundation

/// The Engine's export of `push`'s image, requested while the login is made, for a push that will read the image.
/// The Engine writes the whole image out before the export's first byte (a second for 250 MiB here), and the login
/// (AssumeRole, GetAuthorizationToken: a tenth of a second to half a second against AWS) need not come first: the
/// two overlap, and the push starts that much sooner.
///
/// The export's bytes wait on their transfer thread until the push takes them (`take`); a push that goes another way
/// (the Engine's push, an image the registry holds already, a failure) cancels it (`cancel`), which ends the request.
package final class EngineExportAhead: Sendable {
    /// The image as the push names it (the export is asked for by that name, as the push itself would).
    package let image: String
    private let handoff = Handoff()
    private let transfer: Task<Void, any Error>

    private init(image: String, docker: DockerClient) {
        self.image = image
        transfer = Task { [handoff] in
            try await docker.exportImage([image]) { chunk in try handoff.deliver(chunk) }
        }
    }

    /// Requests the export of `image` now.
    package static func start(image: String, docker: DockerClient) -> EngineExportAhead {
        EngineExportAhead(image: image, docker: docker)
    }

    /// Hands every byte of the export to `consumer` (on the transfer's thread, which it may block to hold the Engine
    /// back) and returns when the export is over; throws what the export met. Only once: a second reader gets
    /// `ECRPushError.internalInconsistency`.
    package func take(_ consumer: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws {
        switch handoff.attach(consumer) {
        case .attached: break
        case .abandoned: throw CancellationError()
        case .taken: throw ECRPushError.internalInconsistency("the export requested ahead was read twice")
        }
        try await withTaskCancellationHandler {
            try await transfer.value
        } onCancel: {
            cancel()
        }
    }

    /// Ends the export (nothing once it is over): the Engine stops sending, and a reader waiting in `take` gets the
    /// cancellation.
    package func cancel() {
        handoff.abandon()
        transfer.cancel()
    }

    /// Where the transfer thread waits for the push to take the bytes.
    private final class Handoff: @unchecked Sendable {
        private let condition = NSCondition()
        private var consumer: (@Sendable (UnsafeRawBufferPointer) throws -> Void)?
        private var abandoned = false

        enum Attachment { case attached, abandoned, taken }

        /// Sets the consumer, unless there is one already or the export was abandoned.
        func attach(_ consumer: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) -> Attachment {
            condition.lock()
            defer { condition.unlock() }
            if self.consumer != nil { return .taken }
            if abandoned { return .abandoned }
            self.consumer = consumer
            condition.broadcast()
            return .attached
        }

        /// No consumer will come (a transfer thread waiting for one gives up); one already attached keeps reading.
        func abandon() {
            condition.lock()
            abandoned = true
            condition.broadcast()
            condition.unlock()
        }

        /// On the transfer's thread: waits for the consumer, then hands it the chunk.
        func deliver(_ chunk: UnsafeRawBufferPointer) throws {
            condition.lock()
            while consumer == nil && !abandoned { condition.wait() }
            let consumer = self.consumer
            condition.unlock()
            guard let consumer else { throw CancellationError() }
            try consumer(chunk)
        }
    }
}
