import Testing

@testable import DockerEngine

/// The Engine's push status words are parsed once, and printed back exactly as docker prints them.
@Suite struct PushStatusTests {
    @Test func knownWordsAreParsedAndPrintedBackUnchanged() {
        let cases: [(String, PushStatus)] = [
            ("Preparing", .preparing), ("Waiting", .waiting), ("Pushing", .pushing), ("Pushed", .pushed),
            ("Layer already exists", .alreadyExists), ("Mounted from team/base", .mounted(from: "team/base")),
            (
                "v1: digest: sha256:\(String(repeating: "a", count: 64)) size: 528",
                .other("v1: digest: sha256:\(String(repeating: "a", count: 64)) size: 528")
            ),
            ("Retrying in 5 seconds", .other("Retrying in 5 seconds")), ("Mounted from ", .other("Mounted from "))
        ]
        for (text, status) in cases {
            #expect(PushStatus(text) == status, "\(text)")
            #expect(status.description == text)
        }
    }

    @Test func decodedMessagesCarryTheParsedStatus() throws {
        let message = try #require(JSONMessage.decode(Array(#"{"status":"Mounted from library/busybox","id":"5f70bf18a086"}"#.utf8)))
        #expect(PushEvent(message).status == .mounted(from: "library/busybox"))
    }
}
