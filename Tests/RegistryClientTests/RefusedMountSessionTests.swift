import RegistryClient
import TestWorld
import Testing

/// A refused mount's upload session carries the copy that follows it; one the registry no longer knows gives way to
/// a fresh session.
@Suite struct RefusedMountSessionTests {
    @Test func aCopyGoesOnTheRefusedMountsSessionOrAFreshOneWhenItIsGone() async throws {
        let server = try FakeRegistry()
        defer { server.stop() }
        let client = RegistryClient(baseURL: server.url, credentials: RegistryClientTests.credentials)
        let blob = try RegistryClientTests.blobFile(size: 70_000)
        try await client.uploadBlob(repository: "src", digest: blob.digest, size: 70_000, content: .file(path: blob.path))
        for repository in ["kept-session", "gone-sessions"] {
            let answer = try await client.mountOrOpenSession(repository: repository, digest: blob.digest, from: "elsewhere")
            guard case .refused(let session?) = answer else {
                Issue.record("a refused mount names its session: \(answer)")
                continue
            }
            try await client.copyBlob(digest: blob.digest, size: 70_000, from: client, sourceRepository: "src", to: repository, session: session)
            #expect(try await client.blobExists(repository: repository, digest: blob.digest))
        }
        let log = try await server.requests()
        let kept = log.filter { $0.path.hasPrefix("/v2/kept-session/") && $0.method != "HEAD" }.map(\.method)
        #expect(kept == ["POST", "PUT"], "the mount's POST, then the copy's PUT on its session: \(kept)")
        let gone = log.filter { $0.path.hasPrefix("/v2/gone-sessions/") && $0.method != "HEAD" }.map(\.method)
        #expect(gone.filter { $0 == "POST" }.count == 2 && gone.last == "PUT", "a fresh session after the gone one: \(gone)")
    }
}
