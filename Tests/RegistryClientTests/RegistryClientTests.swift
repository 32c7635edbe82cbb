import Foundation
import Hashing
import RegistryClient
import Synchronization
import TestWorld
import Testing

/// The distribution API client against a real distribution registry (basic auth) and against FakeRegistry for
/// the answers a real one does not give on demand.
@Suite struct RegistryClientTests {
    static let credentials = RegistryCredentials(username: "AWS", password: "fake-password")

    static func blobFile(size: Int) throws -> (path: String, digest: String, directory: TemporaryDirectory) {
        let directory = TemporaryDirectory()
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
        let path = directory.path + "/blob"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, SHA256.hash(bytes).ociDigest, directory)
    }

    @Test func blobsAndManifestsOnARealRegistry() async throws {
        let registry = try await LoopbackRegistry.shared()
        let client = RegistryClient(
            baseURL: registry.hostPort,
            credentials: RegistryCredentials(username: registry.username, password: registry.password))
        #expect(client.baseURL == registry.url, "a loopback host speaks plain http")
        let repository = "rc-\(UInt32.random(in: 0...UInt32.max))"
        let blob = try Self.blobFile(size: 3 << 20)
        #expect(try await client.blobExists(repository: repository, digest: blob.digest) == false)
        let progress = ProgressLog()
        try await client.uploadBlob(
            repository: repository, digest: blob.digest, size: 3 << 20,
            content: .file(path: blob.path)
        ) { progress.record($0) }
        #expect(try await client.blobExists(repository: repository, digest: blob.digest))
        #expect(progress.last == 3 << 20, "progress reaches the blob's size")
        // Read back whole, and its start alone (a Range request: what the link probe reads).
        let whole = Mutex<[UInt8]>([])
        try await client.readBlob(repository: repository, digest: blob.digest) { chunk in whole.withLock { $0 += chunk } }
        #expect(whole.withLock { SHA256.hash($0).ociDigest } == blob.digest)
        let start = Mutex<[UInt8]>([])
        try await client.readBlob(repository: repository, digest: blob.digest, firstBytes: 100_000) { chunk in start.withLock { $0 += chunk } }
        #expect(start.withLock { $0 } == Array(whole.withLock { $0 }.prefix(100_000)))
        // And in parts, as ecr-api copies a base: a middle part and the last (206 each).
        let middle = try await client.readBlobPart(repository: repository, digest: blob.digest, range: 1_000_000...1_999_999, checked: false)
        #expect(middle == Array(whole.withLock { $0 }[1_000_000...1_999_999]))
        let last = try await client.readBlobPart(repository: repository, digest: blob.digest, range: 2_000_000...(3 << 20) - 1, checked: true)
        #expect(last == Array(whole.withLock { $0 }[2_000_000...]))

        let config = Array("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}".utf8)
        let configDigest = SHA256.hash(config).ociDigest
        try await client.uploadBlob(repository: repository, digest: configDigest, size: Int64(config.count), content: .bytes(config))
        let manifest = Array(
            """
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",\
            "config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":\(config.count),"digest":"\(configDigest)"},\
            "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":\(3 << 20),"digest":"\(blob.digest)"}]}
            """.utf8)
        let mediaType = "application/vnd.docker.distribution.manifest.v2+json"
        let digest = try await client.putManifest(repository: repository, reference: "v1", bytes: manifest, mediaType: mediaType)
        #expect(digest == SHA256.hash(manifest).ociDigest)
        #expect(try await client.manifestDigest(repository: repository, reference: "v1", accept: [mediaType]) == digest)
        #expect(try await client.manifestDigest(repository: repository, reference: "absent", accept: [mediaType]) == nil)

        let wrong = RegistryClient(baseURL: registry.url, credentials: RegistryCredentials(username: "AWS", password: "wrong"))
        await #expect {
            try await wrong.blobExists(repository: repository, digest: blob.digest)
        } throws: { error in
            guard case RegistryError.unauthorized = error else { return false }
            return !"\(error)".contains("wrong")
        }
        // No login at all (a registry ecrpush has none for): said as such, with where a login comes from.
        let anonymous = RegistryClient(baseURL: registry.url, credentials: nil)
        await #expect {
            try await anonymous.manifestDigest(repository: repository, reference: "v1", accept: [mediaType])
        } throws: { error in
            guard case RegistryError.loginMissing(let name) = error else { return false }
            return name == registry.hostPort && "\(error)".contains("docker login \(registry.hostPort)")
        }
    }

    @Test(arguments: ["relative", "absolute", "ecrlike"])
    func uploadLocationsAndStatuses(repository: String) async throws {
        let server = try FakeRegistry()
        defer { server.stop() }
        let client = RegistryClient(baseURL: server.url, credentials: Self.credentials)
        let blob = try Self.blobFile(size: 200_000)
        try await client.uploadBlob(repository: repository, digest: blob.digest, size: 200_000, content: .file(path: blob.path))
        #expect(try await client.blobExists(repository: repository, digest: blob.digest))
        let log = try await server.requests()
        #expect(log.map(\.method) == ["POST", "PUT", "HEAD"], "a blob of known size goes up in the PUT that finishes its session")
        let put = try #require(log.first { $0.method == "PUT" })
        #expect(put.bodyLength == 200_000, "the whole blob in the PUT")
        #expect(put.query.contains("digest=sha256"))
        if repository == "relative" { #expect(put.query.hasPrefix("_state=s-"), "the session's query is kept") }
        #expect(log.allSatisfy { $0.authorization == "Basic " + Data("AWS:fake-password".utf8).base64EncodedString() })
    }

    /// A blob still being made (its size and digest unknown at the start) goes in one chunked PATCH, and the PUT
    /// that names its digest goes where the PATCH answer says.
    @Test(arguments: ["relative", "absolute", "ecrlike"])
    func aStreamedUploadPatchesThenPuts(repository: String) async throws {
        let server = try FakeRegistry()
        defer { server.stop() }
        let client = RegistryClient(baseURL: server.url, credentials: Self.credentials)
        let bytes = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let stream = StreamedBytes(bytes, chunk: 40_000)
        try await client.uploadStreamingBlob(
            repository: repository, name: "the layer", read: { stream.read(into: $0) }, digest: { SHA256.hash(bytes).ociDigest })
        #expect(try await client.blobExists(repository: repository, digest: SHA256.hash(bytes).ociDigest))
        let log = try await server.requests()
        #expect(log.map(\.method) == ["POST", "PATCH", "PUT", "HEAD"])
        let patch = try #require(log.first { $0.method == "PATCH" })
        let put = try #require(log.first { $0.method == "PUT" })
        #expect(patch.bodyLength == 150_000 && put.bodyLength == 0)
        if repository == "relative" {
            #expect(patch.query.hasPrefix("_state=s-"), "the session's query is kept")
            #expect(put.query.hasPrefix("_state=p-"), "the PATCH answer's Location is where the upload finishes")
        }
    }

    /// Sessions opened ahead are used by the next uploads to their repository (no POST of their own), and those
    /// left are closed; one the registry no longer knows gives way to a fresh session at once.
    @Test func sessionsOpenedAheadAreUsedThenClosed() async throws {
        let server = try FakeRegistry()
        defer { server.stop() }
        let client = RegistryClient(baseURL: server.url, credentials: Self.credentials)
        let first = try Self.blobFile(size: 50_000)
        for _ in 0..<3 { client.openUploadSessionAhead(repository: "ahead") }
        try await client.uploadBlob(repository: "ahead", digest: first.digest, size: 50_000, content: .file(path: first.path))
        await client.closeUploadSessionsAhead()
        var log = try await server.requests()
        let posts = log.filter { $0.method == "POST" }.map(\.path)
        let put = try #require(log.first { $0.method == "PUT" })
        #expect(posts.count == 3, "three sessions opened ahead, none for the upload itself")
        let deletes = log.filter { $0.method == "DELETE" }.map(\.path)
        #expect(deletes.count == 2 && !deletes.contains(put.path), "the two sessions left are closed: \(log.map(\.method))")

        let second = try Self.blobFile(size: 60_000)
        client.openUploadSessionAhead(repository: "gone-sessions")
        try await client.uploadBlob(repository: "gone-sessions", digest: second.digest, size: 60_000, content: .file(path: second.path))
        log = try await server.requests().filter { $0.path.hasPrefix("/v2/gone-sessions/") }
        #expect(log.map(\.method) == ["POST", "PUT", "POST", "PUT"], "the unknown session gives way to a fresh one")
        #expect(try await client.blobExists(repository: "gone-sessions", digest: second.digest))
    }

    /// A blob still arriving (the Engine's upload to ecrpush's relay) goes on a session opened ahead, and starts
    /// over from its first byte on a fresh session when the registry no longer knows that one.
    @Test func anArrivingBlobTakesASessionOpenedAheadAndStartsOverWhenItIsGone() async throws {
        let server = try FakeRegistry()
        defer { server.stop() }
        let client = RegistryClient(baseURL: server.url, credentials: Self.credentials)
        let bytes = (0..<120_000).map { UInt8(truncatingIfNeeded: $0 &* 11) }
        for repository in ["arriving", "gone-sessions"] {
            let opened = Mutex(0)
            client.openUploadSessionAhead(repository: repository)
            try await client.uploadArrivingBlob(
                repository: repository, name: "the layer",
                open: {
                    opened.withLock { $0 += 1 }
                    let stream = StreamedBytes(bytes, chunk: 30_000)
                    return { stream.read(into: $0) }
                }, digest: { SHA256.hash(bytes).ociDigest })
            #expect(try await client.blobExists(repository: repository, digest: SHA256.hash(bytes).ociDigest))
            let log = try await server.requests().filter { $0.path.hasPrefix("/v2/\(repository)/") }.map(\.method)
            if repository == "arriving" {
                #expect(log == ["POST", "PATCH", "PUT", "HEAD"], "the session opened ahead takes the blob")
                #expect(opened.withLock { $0 } == 1)
            } else {
                #expect(log == ["POST", "PATCH", "POST", "PATCH", "PUT", "HEAD"], "a fresh session after the unknown one")
                #expect(opened.withLock { $0 } == 2, "the bytes start over from the first")
            }
        }
    }

    /// A blob whose digest never comes (the Engine abandoned it, or its bytes were not what it named) leaves no
    /// session open: it is deleted, and nothing is finished.
    @Test func anAbandonedArrivingBlobDeletesItsSession() async throws {
        let server = try FakeRegistry()
        defer { server.stop() }
        let client = RegistryClient(baseURL: server.url, credentials: Self.credentials)
        let stream = StreamedBytes(Array(repeating: 7, count: 50_000), chunk: 10_000)
        struct Abandoned: Error {}
        await #expect(throws: Abandoned.self) {
            try await client.uploadArrivingBlob(
                repository: "abandoned", name: "the layer", open: { { stream.read(into: $0) } }, digest: { throw Abandoned() })
        }
        let log = try await server.requests().filter { $0.path.hasPrefix("/v2/abandoned/") }
        #expect(log.map(\.method) == ["POST", "PATCH", "DELETE"])
        #expect(Set(log.dropFirst().map(\.path)).count == 1, "the session the bytes went to is the one deleted")
    }

    @Test func aFailedUploadStartsAFreshSession() async throws {
        let server = try FakeRegistry()
        defer { server.stop() }
        let client = RegistryClient(baseURL: server.url, credentials: Self.credentials)
        let blob = try Self.blobFile(size: 100_000)
        try await client.uploadBlob(repository: "flaky", digest: blob.digest, size: 100_000, content: .file(path: blob.path))
        let log = try await server.requests()
        #expect(log.filter { $0.method == "POST" }.count == 2, "a new upload session after the failure")
        let puts = log.filter { $0.method == "PUT" }.map(\.path)
        #expect(puts.count == 2)
        #expect(Set(puts).count == 2, "nothing is re-sent on the failed session")
    }

    /// A registry that ignores `Range` serves a part at the blob's start from its whole answer (the rest is not
    /// read); any later part is an error, never the wrong bytes.
    @Test func aPartFromARegistryThatIgnoresRanges() async throws {
        let server = try FakeRegistry()
        defer { server.stop() }
        let client = RegistryClient(baseURL: server.url, credentials: Self.credentials)
        let blob = try Self.blobFile(size: 300_000)
        try await client.uploadBlob(repository: "plain", digest: blob.digest, size: 300_000, content: .file(path: blob.path))
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: blob.path)))
        let first = try await client.readBlobPart(repository: "plain", digest: blob.digest, range: 0...99_999, checked: false)
        #expect(first == Array(bytes.prefix(100_000)))
        await #expect {
            try await client.readBlobPart(repository: "plain", digest: blob.digest, range: 100_000...199_999, checked: true)
        } throws: { error in
            guard case RegistryError.unexpectedStatus(_, let status, _) = error else { return false }
            return status == 200
        }
    }

    @Test func registryErrorsAreNamed() async throws {
        let server = try FakeRegistry()
        defer { server.stop() }
        let client = RegistryClient(baseURL: server.url, credentials: Self.credentials)
        let blob = try Self.blobFile(size: 10)
        await #expect(
            throws: RegistryError.denied(
                repository: "denied", operation: "starting an upload of \(blob.digest)",
                message: "User is not authorized")
        ) {
            try await client.uploadBlob(repository: "denied", digest: blob.digest, size: 10, content: .file(path: blob.path))
        }
        // Reading a manifest (a base image's) is denied for want of pull permissions, which the description names.
        await #expect {
            _ = try await client.manifest(repository: "denied", reference: "v1")
        } throws: { error in
            guard let error = error as? RegistryError, case .denied(_, _, _, let needs) = error else { return false }
            return needs == RegistryError.manifestReadPermissions && error.description.contains("ecr:BatchGetImage")
                && !error.description.contains("ecr:PutImage")
        }
        await #expect(throws: RegistryError.nameUnknown(repository: "missing", registry: "127.0.0.1:\(server.port)")) {
            try await client.uploadBlob(repository: "missing", digest: blob.digest, size: 10, content: .file(path: blob.path))
        }
        // A HEAD answer has no body to name the error: a missing repository's blob is simply absent.
        #expect(try await client.blobExists(repository: "missing", digest: blob.digest) == false)
        do {
            try await client.putManifest(repository: "immutable", reference: "v1", bytes: Array("{}".utf8), mediaType: "application/json")
            Issue.record("an immutable tag must be refused")
        } catch let error as RegistryError {
            guard case .tagInvalid(let repository, let tag, let message) = error else { Issue.record("\(error)"); return }
            #expect(repository == "immutable" && tag == "v1" && message.contains("immutable"))
            #expect(error.description.contains("tag 'v1'"))
        }
        #expect(!"\(Self.credentials)".contains("fake-password"))
    }

    /// A blob HEAD redirected to another port (another origin) must not carry the registry password there.
    @Test func crossHostRedirectDoesNotCarryAuthorization() async throws {
        let server = try FakeRegistry()
        defer { server.stop() }
        let client = RegistryClient(baseURL: server.url, credentials: Self.credentials)
        #expect(try await client.blobExists(repository: "redirected", digest: "sha256:" + String(repeating: "a", count: 64)))
        let log = try await server.requests()
        let first = try #require(log.first { $0.port == server.port })
        let followed = try #require(log.first { $0.port == server.otherPort })
        #expect(first.authorization != nil)
        #expect(followed.authorization == nil, "Authorization stayed with the origin it was meant for")
    }

    @Test func urls() {
        #expect(RegistryURL.base(for: "123456789012.dkr.ecr.us-east-1.amazonaws.com") == "https://123456789012.dkr.ecr.us-east-1.amazonaws.com")
        #expect(RegistryURL.base(for: "localhost:5000") == "http://localhost:5000")
        #expect(RegistryURL.base(for: "https://example.com/") == "https://example.com")
    }
}

final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int64] = []
    func record(_ value: Int64) { lock.lock(); values.append(value); lock.unlock() }
    var last: Int64? { lock.lock(); defer { lock.unlock() }; return values.last }
}
