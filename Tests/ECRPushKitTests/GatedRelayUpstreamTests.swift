import RegistryRelay
import Synchronization
import Testing

@testable import ECRPushKit

/// The relay's destination before the push has chosen: the Engine's requests wait, then go on or are refused.
@Suite struct GatedRelayUpstreamTests {
    final class Sizes: RelayUpstream {
        let uploadsStarted = Mutex(0)
        let uploaded = Mutex<[String]>([])
        func blobSize(_ digest: String) async throws -> Int64? { Int64(digest.count) }
        func uploadStarted() { uploadsStarted.withLock { $0 += 1 } }
        func relayStopped() async {}
        func uploadArriving(_ upload: RelayUpload) async throws -> Bool { false }
        func uploadBlob(digest: String, size: Int64, path: String) async throws { uploaded.withLock { $0.append(digest) } }
        func putManifest(bytes: [UInt8], mediaType: String, digest: String) async throws {}
    }

    @Test func waitsThenGoesToTheDestinationItIsGiven() async throws {
        let gate = GatedRelayUpstream()
        let early = Task { try await gate.blobSize("abc") }
        try await Task.sleep(for: .milliseconds(50))
        gate.open(Sizes())
        #expect(try await early.value == 3)
        #expect(try await gate.blobSize("abcd") == 4, "later calls go straight on")
    }

    /// An upload the Engine starts before the choice reaches the destination once it is named, not before.
    @Test func anUploadStartedEarlyIsToldOnceOpen() async throws {
        let gate = GatedRelayUpstream()
        gate.uploadStarted()
        gate.uploadStarted()
        let destination = Sizes()
        gate.open(destination)
        #expect(destination.uploadsStarted.withLock { $0 } == 2, "told as it opens")
        gate.uploadStarted()
        #expect(destination.uploadsStarted.withLock { $0 } == 3)
        let refused = GatedRelayUpstream()
        refused.uploadStarted()
        refused.refuse()
        refused.open(destination)
        #expect(destination.uploadsStarted.withLock { $0 } == 3, "a refused gate tells nothing")
    }

    /// Uploads may go on before the choice; checks and the manifest wait for it.
    @Test func uploadsGoOnFirstWhereTheyAreLetThrough() async throws {
        let gate = GatedRelayUpstream()
        gate.uploadStarted()
        let earlyUpload = Task { try await gate.uploadBlob(digest: "early", size: 1, path: "/x") }
        let answered = Mutex(false)
        let check = Task {
            defer { answered.withLock { $0 = true } }
            return try await gate.blobSize("abc")
        }
        try await Task.sleep(for: .milliseconds(50))
        let uploads = Sizes()
        gate.openUploads(to: uploads)
        try await earlyUpload.value
        try await gate.uploadBlob(digest: "later", size: 1, path: "/x")
        #expect(uploads.uploaded.withLock { $0 } == ["early", "later"])
        #expect(uploads.uploadsStarted.withLock { $0 } == 1, "the upload started before is told to the uploads' destination")
        try await Task.sleep(for: .milliseconds(50))
        #expect(!answered.withLock { $0 }, "checks are not uploads")
        let final = Sizes()
        gate.open(final)
        #expect(try await check.value == 3, "the check waited for the destination of every call")
        try await gate.uploadBlob(digest: "last", size: 1, path: "/x")
        #expect(final.uploaded.withLock { $0 } == ["last"])
    }

    @Test func aRefusedGateEndsEveryWaitingCall() async throws {
        let gate = GatedRelayUpstream()
        let early = Task { try await gate.blobSize("abc") }
        try await Task.sleep(for: .milliseconds(50))
        gate.refuse()
        await #expect(throws: CancellationError.self) { try await early.value }
        await #expect(throws: CancellationError.self) { try await gate.blobSize("x") }
        gate.open(Sizes())
        await #expect(throws: CancellationError.self, "refused for good") { try await gate.blobSize("x") }

        let letThrough = GatedRelayUpstream()
        let uploads = Sizes()
        letThrough.openUploads(to: uploads)
        letThrough.refuse()
        await #expect(throws: CancellationError.self, "no upload goes on once refused") {
            try await letThrough.uploadBlob(digest: "late", size: 1, path: "/x")
        }
        letThrough.uploadStarted()
        #expect(uploads.uploaded.withLock { $0 }.isEmpty && uploads.uploadsStarted.withLock { $0 } == 0)
    }

    @Test func aCancelledCallStopsWaiting() async throws {
        let gate = GatedRelayUpstream()
        let early = Task { try await gate.blobSize("abc") }
        try await Task.sleep(for: .milliseconds(50))
        early.cancel()
        await #expect(throws: CancellationError.self) { try await early.value }
    }

    @Test func heldEventsComeInOrderOnceReleasedAndNeverOtherwise() {
        let seen = Mutex<[String]>([])
        let held = HeldEvents { event in
            if case .info(let text) = event { seen.withLock { $0.append(text) } }
        }
        held.deliver(.info("a"))
        held.deliver(.info("b"))
        #expect(seen.withLock { $0 }.isEmpty)
        held.release()
        held.deliver(.info("c"))
        #expect(seen.withLock { $0 } == ["a", "b", "c"])
        let dropped = HeldEvents { _ in Issue.record("never released") }
        dropped.deliver(.info("x"))
    }
}
