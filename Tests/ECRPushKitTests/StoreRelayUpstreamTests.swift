import ImageExport
import RegistryClient
import Synchronization
import Testing

@testable import ECRPushKit

/// The relay's destination over a store: the config's check leaves the critical path, and what the destination
/// holds is not sent again.
@Suite struct StoreRelayUpstreamTests {
    /// A repository in memory that records what is asked of it; `size(of:)` answers after `checkDelay`.
    final class MemoryStore: BlobStore {
        let repository = "team/app"
        var place: String { "memory/\(repository)" }
        let held: [String: Int64]
        let checkDelay: Duration
        let asked = Mutex<[String]>([])
        let uploaded = Mutex<[String]>([])
        let prepared = Mutex(0)

        init(held: [String: Int64], checkDelay: Duration = .zero) { (self.held, self.checkDelay) = (held, checkDelay) }

        func existing(_ digests: [String]) async throws -> Set<String> { Set(digests.filter { held[$0] != nil }) }
        func size(of digest: String) async throws -> Int64? {
            asked.withLock { $0.append(digest) }
            try await Task.sleep(for: checkDelay)
            return held[digest]
        }
        func mount(_ digest: String, from source: String) async throws -> Bool { false }
        func copy(
            _ layer: KnownLayer, from source: RegistryClient, repository: String, progress: @escaping @Sendable (Int64) -> Void
        ) async throws -> Bool { false }
        func upload(_ blob: PreparedBlob, progress: @escaping @Sendable (Int64) -> Void, onInfo: @escaping @Sendable (String) -> Void) async throws {
            uploaded.withLock { $0.append(blob.digest) }
        }
        func prepareUpload() { prepared.withLock { $0 += 1 } }
        func putManifest(_ manifest: ImageManifest, tag: String) async throws {}
    }

    static let config = "sha256:" + String(repeating: "c", count: 64)
    static let layer = "sha256:" + String(repeating: "1", count: 64)

    static func upstream(_ store: MemoryStore) -> StoreRelayUpstream {
        StoreRelayUpstream(store: store, tags: ["v1"], base: Task { [:] }, configDigest: config, onEvent: { _ in })
    }

    @Test func theConfigsCheckIsAnsweredAtOnceAndAHeldConfigIsNotSentAgain() async throws {
        let store = MemoryStore(held: [Self.config: 1234], checkDelay: .milliseconds(300))
        let upstream = Self.upstream(store)
        let started = ContinuousClock.now
        #expect(try await upstream.blobSize(Self.config) == nil, "absent for the Engine, which then sends its few bytes")
        #expect(ContinuousClock.now - started < .milliseconds(250), "not waiting for the destination's answer")
        try await upstream.uploadBlob(digest: Self.config, size: 1234, path: "/nonexistent")
        #expect(store.asked.withLock { $0 } == [Self.config], "asked of the destination once, beside the Engine")
        #expect(store.uploaded.withLock { $0 }.isEmpty, "the destination holds it: nothing sent")
    }

    @Test func aConfigTheDestinationLacksIsSentAndOtherBlobsAreCheckedAsAsked() async throws {
        let store = MemoryStore(held: [Self.layer: 99])
        let upstream = Self.upstream(store)
        #expect(try await upstream.blobSize(Self.layer) == 99)
        #expect(try await upstream.blobSize(Self.config) == nil)
        upstream.uploadStarted()
        try await upstream.uploadBlob(digest: Self.config, size: 1234, path: "/nonexistent")
        #expect(store.uploaded.withLock { $0 } == [Self.config])
        #expect(store.prepared.withLock { $0 } == 1, "the destination heard of the upload when it started")
    }
}
