import Testing

@testable import RegistryRelay

@Suite struct RelayRouteTests {
    static let digest = "sha256:" + String(repeating: "ab", count: 32)

    @Test func namesWhatAnEnginesPushAsks() {
        #expect(RelayRoute(method: "GET", uri: "/v2/") == .versionCheck)
        #expect(RelayRoute(method: "HEAD", uri: "/v2/team/app/blobs/\(Self.digest)") == .blobCheck(digest: Self.digest))
        #expect(RelayRoute(method: "POST", uri: "/v2/team/app/blobs/uploads/") == .startUpload)
        #expect(RelayRoute(method: "POST", uri: "/v2/app/blobs/uploads/?mount=\(Self.digest)&from=base") == .startUpload)
        #expect(RelayRoute(method: "PATCH", uri: "/v2/app/blobs/uploads/u1") == .uploadChunk(session: "u1"))
        #expect(
            RelayRoute(method: "PUT", uri: "/v2/app/blobs/uploads/u1?digest=sha256%3A" + Self.digest.dropFirst(7))
                == .finishUpload(session: "u1", digest: Self.digest))
        #expect(RelayRoute(method: "DELETE", uri: "/v2/app/blobs/uploads/u1") == .cancelUpload(session: "u1"))
        #expect(RelayRoute(method: "PUT", uri: "/v2/team/app/manifests/v1") == .putManifest(reference: "v1"))
    }

    @Test func refusesTheRest() {
        #expect(RelayRoute(method: "GET", uri: "/v2/app/blobs/\(Self.digest)") == .unsupported)  // the relay serves no reads
        #expect(RelayRoute(method: "GET", uri: "/v2/app/manifests/v1") == .unsupported)
        #expect(RelayRoute(method: "HEAD", uri: "/v2/app/blobs/sha256:short") == .unsupported)
        #expect(RelayRoute(method: "PUT", uri: "/v2/app/blobs/uploads/u1") == .unsupported)  // no digest to name the blob
        #expect(RelayRoute(method: "PUT", uri: "/v2/app/blobs/uploads/u1?digest=md5:00") == .unsupported)
        #expect(RelayRoute(method: "GET", uri: "/") == .unsupported)
        #expect(RelayRoute(method: "POST", uri: "/v2/") == .unsupported)
    }

    @Test func findsTheRepository() {
        #expect(RelayRoute.repository(in: "/v2/team/app/blobs/uploads/u1?digest=x") == "team/app")
        #expect(RelayRoute.repository(in: "/v2/app/manifests/v1") == "app")
        #expect(RelayRoute.repository(in: "/v2/") == nil)
    }

    @Test func errorsAreTheDistributionAPIsJSON() {
        let reply = RelayReply.error(403, code: "DENIED", message: "say \"no\"\n")
        #expect(String(decoding: reply.body, as: UTF8.self) == #"{"errors":[{"code":"DENIED","message":"say \"no\"\n"}]}"#)
    }
}
