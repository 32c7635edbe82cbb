import Foundation
import Hashing
import RegistryClient
import RegistryRelay
import Synchronization
import TestWorld
import Testing

/// The relay served over real sockets, driven by ecrpush's own distribution client (the calls an Engine's push
/// makes: check, upload session with a streamed PATCH, finish by digest, manifest), with an upstream that records.
@Suite struct RegistryRelayTests {
    final class RecordingUpstream: RelayUpstream {
        struct Sent: Equatable { var digest: String; var bytes: [UInt8] }
        /// How the destination takes a blob the Engine is still sending: not at all (the relay sends it whole
        /// later), as it arrives, or as it arrives and then failing (the relay must then send it whole).
        enum Arriving { case refused, taken, failing }
        let held: [String: Int64]
        let failUploads: Bool
        let arriving: Arriving
        /// Bytes the destination got of blobs still arriving, and those abandoned (their digest never came).
        let arrivingBytes = Mutex(0)
        let abandoned = Mutex(0)
        /// How each blob that reached the destination came: "arriving" or "whole".
        let ways = Mutex<[String]>([])
        let sent = Mutex<[Sent]>([])
        let manifests = Mutex<[(bytes: [UInt8], mediaType: String, digest: String)]>([])
        let uploadsStarted = Mutex(0)
        let stopped = Mutex(false)
        /// What reached the destination, in order: "blob sha256:…", "manifest".
        let arrivals = Mutex<[String]>([])
        /// Opened by the test: until then uploads wait (a slow destination).
        let uploadsGo: Latch?

        init(held: [String: Int64] = [:], failUploads: Bool = false, uploadsGo: Latch? = nil, arriving: Arriving = .refused) {
            (self.held, self.failUploads, self.uploadsGo, self.arriving) = (held, failUploads, uploadsGo, arriving)
        }

        func uploadArriving(_ upload: RelayUpload) async throws -> Bool {
            guard arriving != .refused else { return false }
            guard
                let bytes = try? await withCheckedThrowingContinuation({ (continuation: CheckedContinuation<[UInt8], any Error>) in
                    // Blocking reads, on a thread of their own (as a transfer's).
                    Thread.detachNewThread {
                        continuation.resume(
                            with: Result {
                                let read = try upload.openReader()
                                var bytes: [UInt8] = []
                                var buffer = [UInt8](repeating: 0, count: 64 << 10)
                                while true {
                                    let count = try buffer.withUnsafeMutableBytes { try read($0) }
                                    if count == 0 { return bytes }
                                    bytes += buffer.prefix(count)
                                    self.arrivingBytes.withLock { $0 += count }
                                }
                            })
                    }
                })
            else {
                abandoned.withLock { $0 += 1 }
                return false
            }
            guard let digest = try? await upload.digest() else {
                abandoned.withLock { $0 += 1 }
                return false
            }
            guard arriving == .taken else { return false }
            #expect(SHA256.hash(bytes).ociDigest == digest)
            sent.withLock { $0.append(Sent(digest: digest, bytes: bytes)) }
            ways.withLock { $0.append("arriving") }
            arrivals.withLock { $0.append("blob \(digest)") }
            return true
        }

        func blobSize(_ digest: String) async throws -> Int64? { held[digest] }

        func uploadStarted() { uploadsStarted.withLock { $0 += 1 } }

        func relayStopped() async { stopped.withLock { $0 = true } }

        func uploadBlob(digest: String, size: Int64, path: String) async throws {
            await uploadsGo?.wait()
            if failUploads { throw RegistryError.denied(repository: "app", operation: "uploading \(digest)", message: "no") }
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            #expect(Int64(bytes.count) == size)
            sent.withLock { $0.append(Sent(digest: digest, bytes: bytes)) }
            ways.withLock { $0.append("whole") }
            arrivals.withLock { $0.append("blob \(digest)") }
        }

        func putManifest(bytes: [UInt8], mediaType: String, digest: String) async throws {
            manifests.withLock { $0.append((bytes, mediaType, digest)) }
            arrivals.withLock { $0.append("manifest") }
        }
    }

    /// Closed until `open()`; `wait()` returns once it is open.
    final class Latch: Sendable {
        private let state = Mutex<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

        func wait() async {
            await withCheckedContinuation { continuation in
                let isOpen = state.withLock { state in
                    if !state.isOpen { state.waiters.append(continuation) }
                    return state.isOpen
                }
                if isOpen { continuation.resume() }
            }
        }

        func open() {
            let waiters = state.withLock { state in
                state.isOpen = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    static let manifest = Array(#"{"schemaVersion":2}"#.utf8)
    static let manifestType = "application/vnd.docker.distribution.manifest.v2+json"

    static func relay(
        _ upstream: RecordingUpstream, sendOnArrivalPast: Int64 = RegistryRelay.sendOnArrivalPast
    ) async throws -> (RegistryRelay, RegistryClient, String) {
        let spool = NSTemporaryDirectory() + "relay-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
        let relay = try await RegistryRelay.start(upstream: upstream, spoolDirectory: spool, sendOnArrivalPast: sendOnArrivalPast)
        return (relay, RegistryClient(baseURL: "http://\(relay.host)", credentials: nil), spool)
    }

    @Test func anUploadArrivesWholeAndChecked() async throws {
        let upstream = RecordingUpstream()
        let (relay, client, spool) = try await Self.relay(upstream)
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let digest = SHA256.hash(bytes).ociDigest
        #expect(try await client.blobExists(repository: "team/app", digest: digest) == false)

        try await client.uploadBlob(repository: "team/app", digest: digest, size: Int64(bytes.count), content: .bytes(bytes))
        #expect(upstream.uploadsStarted.withLock { $0 } == 1, "the destination heard of the upload when its session opened")
        // The Engine checks what it just sent: the relay knows it now.
        #expect(try await client.blobSize(repository: "team/app", digest: digest) == Int64(bytes.count))
        // The manifest goes on once its blobs have.
        _ = try await client.putManifest(repository: "team/app", reference: "v1", bytes: Self.manifest, mediaType: Self.manifestType)
        #expect(upstream.sent.withLock { $0 } == [RecordingUpstream.Sent(digest: digest, bytes: bytes)])
        #expect(upstream.arrivals.withLock { $0 } == ["blob \(digest)", "manifest"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty, "the spooled upload is deleted")
        #expect(relay.requestCount >= 4)
        #expect(!upstream.stopped.withLock { $0 })
        await relay.stop()
        #expect(upstream.stopped.withLock { $0 }, "the destination hears that the relay stopped")
    }

    /// A listener bound ahead (while the command line is read) serves nobody until a relay takes it; the next relay
    /// listens there, and the one after binds a port of its own.
    @Test func theNextRelayTakesTheListenerBoundAhead() async throws {
        try await ListenerAhead.$current.withValue(ListenerAhead()) {
            RegistryRelay.listenAhead()
            let port = try #require(await ListenerAhead.current.port)
            var early = RegistryClient(baseURL: "http://127.0.0.1:\(port)", credentials: nil)
            early.retryPolicy = RegistryRetryPolicy(maxAttempts: 1)
            await #expect(throws: (any Error).self, "a connection before the relay starts is closed") {
                try await early.blobExists(repository: "team/app", digest: "sha256:" + String(repeating: "0", count: 64))
            }
            let upstream = RecordingUpstream()
            let (relay, client, _) = try await Self.relay(upstream)
            #expect(relay.port == port)
            #expect(await ListenerAhead.current.port == nil)
            let digest = "sha256:" + String(repeating: "0", count: 64)
            #expect(try await client.blobExists(repository: "team/app", digest: digest) == false)
            let (second, _, _) = try await Self.relay(upstream)
            #expect(second.port != port)
            await second.stop()
            await relay.stop()
        }
    }

    /// The Engine's way: a chunked PATCH of a layer as it is compressed, then the PUT that names its digest.
    @Test func aChunkedPatchThenPutArrivesWhole() async throws {
        let upstream = RecordingUpstream()
        let (relay, client, _) = try await Self.relay(upstream)
        let bytes = (0..<2_500_000).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let stream = StreamedBytes(bytes, chunk: 100_000)
        try await client.uploadStreamingBlob(
            repository: "team/app", name: "a layer", read: { stream.read(into: $0) }, digest: { SHA256.hash(bytes).ociDigest })
        _ = try await client.putManifest(repository: "team/app", reference: "v1", bytes: Self.manifest, mediaType: Self.manifestType)
        #expect(upstream.sent.withLock { $0 } == [RecordingUpstream.Sent(digest: SHA256.hash(bytes).ociDigest, bytes: bytes)])
        await relay.stop()
    }

    /// A destination that takes blobs as they arrive gets the Engine's bytes while the Engine still sends them:
    /// once the Engine has finished, only the digest is left to give, and the blob is not sent a second time. One
    /// that fails on the way gets the blob whole afterwards.
    @Test(arguments: [RecordingUpstream.Arriving.taken, .failing])
    func anUploadGoesOnAsItArrives(arriving: RecordingUpstream.Arriving) async throws {
        let upstream = RecordingUpstream(arriving: arriving)
        let (relay, client, spool) = try await Self.relay(upstream, sendOnArrivalPast: 500_000)
        let bytes = (0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 29) }
        let half = bytes.count / 2
        let stream = StreamedBytes(bytes, chunk: 100_000)
        let sentBeforeTheEnd = Mutex(false)
        try await client.uploadStreamingBlob(
            repository: "team/app", name: "a layer",
            read: { buffer in
                let count = stream.read(into: buffer)
                if count == 0 {
                    // The Engine's last byte is not sent yet: the destination should have had its first half.
                    let deadline = Date().addingTimeInterval(10)
                    while upstream.arrivingBytes.withLock({ $0 }) < half, Date() < deadline { usleep(2_000) }
                    sentBeforeTheEnd.withLock { $0 = upstream.arrivingBytes.withLock { $0 } >= half }
                }
                return count
            }, digest: { SHA256.hash(bytes).ociDigest })
        _ = try await client.putManifest(repository: "team/app", reference: "v1", bytes: Self.manifest, mediaType: Self.manifestType)
        #expect(sentBeforeTheEnd.withLock { $0 }, "the destination got bytes while the Engine was still sending")
        #expect(upstream.sent.withLock { $0 } == [RecordingUpstream.Sent(digest: SHA256.hash(bytes).ociDigest, bytes: bytes)])
        #expect(upstream.ways.withLock { $0 } == [arriving == .taken ? "arriving" : "whole"])
        #expect(upstream.arrivals.withLock { $0 }.last == "manifest")
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty, "the spooled upload is deleted")
        await relay.stop()
    }

    /// An upload the Engine finishes before it outgrows the relay's threshold goes whole, in one request, even to
    /// a destination that would take it as it arrives; one that outgrows it goes as it arrives.
    @Test func onlyAnUploadPastTheThresholdGoesOnAsItArrives() async throws {
        let upstream = RecordingUpstream(arriving: .taken)
        let (relay, client, _) = try await Self.relay(upstream, sendOnArrivalPast: 1_000_000)
        for (index, count) in [1_000_000, 1_000_001].enumerated() {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ count) }
            let stream = StreamedBytes(bytes, chunk: 100_000)
            try await client.uploadStreamingBlob(
                repository: "team/app", name: "a layer", read: { stream.read(into: $0) }, digest: { SHA256.hash(bytes).ociDigest })
            // One at a time, so that the ways come in the uploads' order.
            let deadline = Date().addingTimeInterval(10)
            while upstream.sent.withLock({ $0.count }) <= index, Date() < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        _ = try await client.putManifest(repository: "team/app", reference: "v1", bytes: Self.manifest, mediaType: Self.manifestType)
        #expect(upstream.ways.withLock { $0 } == ["whole", "arriving"])
        #expect(upstream.sent.withLock { $0 }.map(\.bytes.count) == [1_000_000, 1_000_001])
        await relay.stop()
    }

    /// Bytes that are not the digest the Engine names never become a blob in the destination, even where they went
    /// on as they arrived: the destination learns the upload was abandoned.
    @Test func anArrivingUploadWithTheWrongDigestIsAbandoned() async throws {
        let upstream = RecordingUpstream(arriving: .taken)
        let (relay, client, spool) = try await Self.relay(upstream, sendOnArrivalPast: 100_000)
        let wrong = "sha256:" + String(repeating: "3", count: 64)
        await #expect(throws: RegistryError.self) {
            try await client.uploadBlob(repository: "app", digest: wrong, size: 300_000, content: .bytes(Array(repeating: 1, count: 300_000)))
        }
        let deadline = Date().addingTimeInterval(10)
        while upstream.abandoned.withLock({ $0 }) == 0, Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(upstream.abandoned.withLock { $0 } == 1)
        #expect(upstream.sent.withLock { $0 }.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty)
        await relay.stop()
    }

    @Test func aBlobTheDestinationHoldsIsAnsweredWithItsSize() async throws {
        let digest = "sha256:" + String(repeating: "0", count: 64)
        let (relay, client, _) = try await Self.relay(RecordingUpstream(held: [digest: 1234]))
        #expect(try await client.blobSize(repository: "app", digest: digest) == 1234)
        await relay.stop()
    }

    @Test func bytesThatAreNotTheirDigestAreRefused() async throws {
        let upstream = RecordingUpstream()
        let (relay, client, _) = try await Self.relay(upstream)
        let wrong = "sha256:" + String(repeating: "1", count: 64)
        await #expect(throws: RegistryError.self) {
            try await client.uploadBlob(repository: "app", digest: wrong, size: 3, content: .bytes([1, 2, 3]))
        }
        #expect(upstream.sent.withLock { $0 }.isEmpty)
        await relay.stop()
    }

    /// The Engine is answered as soon as an upload's digest checks, and goes on (to its config, to the manifest)
    /// while the blob travels to a slow destination; the manifest waits for it: the destination never gets a
    /// manifest before the blobs it names.
    // A relay that waits for the destination before answering never gets to the manifest: the limit fails it.
    @Test(.timeLimit(.minutes(1))) func anUploadIsAnsweredBeforeTheDestinationHasItAndTheManifestWaitsForIt() async throws {
        let go = Latch()
        let upstream = RecordingUpstream(uploadsGo: go)
        let (relay, client, spool) = try await Self.relay(upstream)
        let layer = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let config = Array(#"{"architecture":"amd64"}"#.utf8)
        for blob in [layer, config] {
            try await client.uploadBlob(repository: "app", digest: SHA256.hash(blob).ociDigest, size: Int64(blob.count), content: .bytes(blob))
            #expect(try await client.blobSize(repository: "app", digest: SHA256.hash(blob).ociDigest) == Int64(blob.count))
        }
        #expect(upstream.arrivals.withLock { $0 }.isEmpty, "the destination has nothing yet")

        let manifestPut = Task {
            try await client.putManifest(repository: "app", reference: "v1", bytes: Self.manifest, mediaType: Self.manifestType)
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(upstream.manifests.withLock { $0 }.isEmpty, "the manifest waits for its blobs")
        go.open()
        #expect(try await manifestPut.value == SHA256.hash(Self.manifest).ociDigest)
        let arrivals = upstream.arrivals.withLock { $0 }
        #expect(Set(arrivals.prefix(2)) == ["blob \(SHA256.hash(layer).ociDigest)", "blob \(SHA256.hash(config).ociDigest)"])
        #expect(arrivals.last == "manifest" && arrivals.count == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: spool).isEmpty, "the spooled uploads are deleted")
        await relay.stop()
    }

    /// A destination that refuses a blob the Engine was told it had: the manifest is refused with DENIED (which
    /// the Engine does not retry) and never reaches the destination, the Engine's next upload is refused as well,
    /// and the push learns the destination's own error.
    @Test func theDestinationsFailureIsKept() async throws {
        let upstream = RecordingUpstream(failUploads: true)
        let (relay, client, _) = try await Self.relay(upstream)
        let bytes: [UInt8] = [1, 2, 3]
        try await client.uploadBlob(repository: "app", digest: SHA256.hash(bytes).ociDigest, size: 3, content: .bytes(bytes))
        do {
            _ = try await client.putManifest(repository: "app", reference: "v1", bytes: Self.manifest, mediaType: Self.manifestType)
            Issue.record("the manifest should have been refused")
        } catch let error as RegistryError {
            #expect("\(error)".contains("DENIED") || "\(error)".contains("denied"), "\(error)")
        }
        #expect(upstream.manifests.withLock { $0 }.isEmpty)
        #expect(relay.upstreamFailure is RegistryError)
        let more: [UInt8] = [4, 5]
        await #expect(throws: RegistryError.self) {
            try await client.uploadBlob(repository: "app", digest: SHA256.hash(more).ociDigest, size: 2, content: .bytes(more))
        }
        await relay.stop()
    }

    @Test func theManifestGoesOnWithItsDigest() async throws {
        let upstream = RecordingUpstream()
        let (relay, client, _) = try await Self.relay(upstream)
        let (manifest, mediaType) = (Self.manifest, Self.manifestType)
        let answered = try await client.putManifest(repository: "app", reference: "v1", bytes: manifest, mediaType: mediaType)
        let digest = SHA256.hash(manifest).ociDigest
        #expect(answered == digest)
        let put = upstream.manifests.withLock { $0 }
        #expect(put.count == 1 && put.first?.bytes == manifest && put.first?.mediaType == mediaType && put.first?.digest == digest)
        #expect(relay.manifestDigest == digest)
        await relay.stop()
    }

    /// The Engine tries HTTPS first on a loopback registry: a TLS hello gets an HTTP error, and the relay goes on.
    @Test func aTLSHelloDoesNotStopTheRelay() async throws {
        let (relay, client, _) = try await Self.relay(RecordingUpstream())
        let socket = Darwinless.connect(port: relay.port)
        #expect(socket >= 0)
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00]
        _ = hello.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
        var answer = [UInt8](repeating: 0, count: 64)
        let read = recv(socket, &answer, answer.count, 0)
        close(socket)
        #expect(read > 0 && String(decoding: answer.prefix(max(0, read)), as: UTF8.self).hasPrefix("HTTP/1.1 400"))
        #expect(try await client.blobExists(repository: "app", digest: "sha256:" + String(repeating: "2", count: 64)) == false)
        await relay.stop()
    }
}

/// A plain TCP connection to 127.0.0.1 (Glibc), for bytes no HTTP client would send.
enum Darwinless {
    static func connect(port: Int) -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0 ? descriptor : -1
    }
}
