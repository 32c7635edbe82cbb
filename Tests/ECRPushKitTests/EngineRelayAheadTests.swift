import Testing

@testable import ECRPushKit

/// Which names the relay may tag an image from before the Engine has described it: only those the image keeps.
@Suite struct EngineRelayAheadTests {
    @Test(arguments: ["app:v4", "team/app:1.2", "registry.example.com:5000/team/app:latest", "app:0123456789ab"])
    func aNameWithItsTagIsOne(reference: String) {
        #expect(EngineRelayAhead.isTaggedName(reference))
    }

    @Test(arguments: [
        "app", "afb314d6ac06", "sha256:" + String(repeating: "a", count: 64), "app@sha256:" + String(repeating: "b", count: 64),
        "app:v4@sha256:" + String(repeating: "c", count: 64), "registry.example.com:5000/team/app", "Not A Name:v1", ""
    ])
    func anIDADigestOrANameWithoutItsTagIsNot(reference: String) {
        #expect(!EngineRelayAhead.isTaggedName(reference))
    }
}
