import ImageExport
import RegistryClient
import Synchronization
import Testing

@testable import ECRPushKit

/// The relay's destination over a store: the config's check is asked ahead, uploads are prepared when they start.
@Suite struct StoreRelayUpstreamTests {
    /// A repository in memory that records what is asked of it.
    final class MemoryStore: BlobStore {
        let repository = "team/app"
        var place: String { "memory/\(repository)" }
        let held: [String: Int64]
        let asked = Mutex<[String]>([])
        let uploaded = Mutex<[String]>([])
        let prepared = Mutex(0)
        let discarded = Mutex(0)

        init(held: [String: Int64]) { self.held = held }

        func existing(_ digests: [String]) async throws -> Set<String> { Set(digests.filter { held[$0] != nil }) }
        func size(of digest: String) async throws -> Int64? {
            asked.withLock { $0.append(digest) }
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
        func discardPreparedUploads() async { discarded.withLock { $0 += 1 } }
        func putManifest(_ manifest: ImageManifest, tag: String) async throws {}
    }

    static let config = "sha256:" + String(repeating: "c", count: 64)
    static let layer = "sha256:" + String(repeating: "1", count: 64)

    static func upstream(_ store: MemoryStore) -> StoreRelayUpstream {
        StoreRelayUpstream(store: store, tags: ["v1"], base: Task { [:] }, configDigest: config, onEvent: { _ in })
    }

    /// The config's check is asked of the destination when the relay's destination is made, once, and its answer
    /// given to the Engine whenever it asks.
    @Test func theConfigIsCheckedAheadAndOnce() async throws {
        let store = MemoryStore(held: [Self.config: 1234])
        let upstream = Self.upstream(store)
        for _ in 0..<100 where store.asked.withLock({ $0 }).isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(store.asked.withLock { $0 } == [Self.config], "asked before the Engine asks")
        #expect(try await upstream.blobSize(Self.config) == 1234)
        #expect(try await upstream.blobSize(Self.config) == 1234)
        #expect(store.asked.withLock { $0 } == [Self.config], "asked once")
        #expect(store.prepared.withLock { $0 } == 0, "no upload prepared for a config the destination holds")
    }

    /// A config the destination lacks has its upload prepared when the check answers; the upload the Engine starts
    /// after its check is that one (not prepared twice), and others are prepared as they start.
    @Test func aConfigTheDestinationLacksIsPreparedForAndSent() async throws {
        let store = MemoryStore(held: [Self.layer: 99])
        let upstream = Self.upstream(store)
        upstream.uploadStarted()
        #expect(store.prepared.withLock { $0 } == 1, "a layer's upload, prepared as the Engine starts it")
        #expect(try await upstream.blobSize(Self.layer) == 99)
        #expect(try await upstream.blobSize(Self.config) == nil)
        #expect(store.prepared.withLock { $0 } == 2, "the config's upload, prepared once the destination said it lacks it")
        upstream.uploadStarted()
        #expect(store.prepared.withLock { $0 } == 2, "the config's upload was prepared already")
        upstream.uploadStarted()
        #expect(store.prepared.withLock { $0 } == 3)
        try await upstream.uploadBlob(digest: Self.config, size: 1234, path: "/nonexistent")
        #expect(store.uploaded.withLock { $0 } == [Self.config])
        await upstream.relayStopped()
        #expect(store.discarded.withLock { $0 } == 1, "what was prepared and not used goes with the relay")
    }

    /// The relay's destination for uploads, named before the push's choice, checks the config then; the destination
    /// named after the choice takes that check over: the config is asked about once, and its upload, prepared once
    /// the destination said it lacks it, is the one the Engine's config upload takes.
    @Test func theCheckMadeBeforeTheChoiceServesTheDestinationNamedAfterIt() async throws {
        let store = MemoryStore(held: [:])
        let uploads = StoreRelayUpstream(store: store, tags: [], base: Task { [:] }, configDigest: Self.config, onEvent: { _ in })
        for _ in 0..<100 where store.prepared.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(store.asked.withLock { $0 } == [Self.config], "asked before the choice")
        #expect(store.prepared.withLock { $0 } == 1, "the config's upload prepared then")

        let chosen = StoreRelayUpstream(
            store: store, tags: ["v1"], base: Task { [:] }, configDigest: Self.config, config: uploads.config, onEvent: { _ in })
        #expect(try await chosen.blobSize(Self.config) == nil)
        chosen.uploadStarted()
        #expect(store.prepared.withLock { $0 } == 1, "the Engine's config upload takes the session prepared before the choice")
        #expect(store.asked.withLock { $0 } == [Self.config], "asked once")
    }
}
