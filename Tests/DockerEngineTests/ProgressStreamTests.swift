import Foundation
import Testing

@testable import DockerEngine

/// The daemon's JSON-lines progress output, parsed incrementally: a line may arrive cut at any byte.
@Suite struct ProgressStreamTests {
    // Real classic-builder output (dockerd 20.10), including "\r\n" line ends and a failing step.
    static let failingBuild = Array(
        ("{\"stream\":\"Step 1/2 : FROM busybox:local\"}\r\n"
            + "{\"stream\":\"\\n\"}\r\n"
            + "{\"stream\":\" ---\\u003e 211e2e7fe449\\n\"}\r\n"
            + "{\"stream\":\"Step 2/2 : RUN echo héllo \\u0026\\u0026 exit 3\"}\r\n"
            + "{\"stream\":\" ---\\u003e Running in 6740744c7058\\n\"}\r\n"
            + "{\"stream\":\"héllo\\n\"}\r\n"
            + "{\"errorDetail\":{\"code\":3,\"message\":\"The command '/bin/sh -c echo héllo \\u0026\\u0026 exit 3' returned a non-zero code: 3\"},"
            + "\"error\":\"The command '/bin/sh -c echo héllo \\u0026\\u0026 exit 3' returned a non-zero code: 3\"}\r\n").utf8)

    static let successfulBuild = Array(
        ("{\"stream\":\"Step 1/1 : FROM busybox:local\"}\r\n"
            + "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"a1b2\"}\r\n"
            + "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1024,\"total\":4096},\"progress\":\"[==>   ]\",\"id\":\"a1b2\"}\r\n"
            + "{\"aux\":{\"ID\":\"sha256:80adc0acae8483c1ab90f0f3464c7c3d00a84c9c87572be950a332c10e195f62\"}}\r\n"
            + "{\"stream\":\"Successfully built 80adc0acae84\\n\"}\r\n"
            + "{\"stream\":\"Successfully tagged t1:latest\\n\"}\r\n").utf8)

    static let push = Array(
        ("{\"status\":\"The push refers to repository [127.0.0.1:5000/team/app]\"}\n"
            + "{\"status\":\"Preparing\",\"progressDetail\":{},\"id\":\"5f70bf18a086\"}\n"
            + "{\"status\":\"Pushing\",\"progressDetail\":{\"current\":512,\"total\":2048},\"progress\":\"[=>  ]\",\"id\":\"5f70bf18a086\"}\n"
            + "{\"status\":\"Pushed\",\"progressDetail\":{},\"id\":\"5f70bf18a086\"}\n"
            + "{\"status\":\"1.0: digest: sha256:1111111111111111111111111111111111111111111111111111111111111111 size: 528\"}\n"
            + "{\"progressDetail\":{},\"aux\":{\"Tag\":\"1.0\","
            + "\"Digest\":\"sha256:2222222222222222222222222222222222222222222222222222222222222222\",\"Size\":528}}\n")
            .utf8)

    /// Feeds `bytes` in the given chunks and collects the build events and outcome.
    static func buildEvents(_ chunks: [ArraySlice<UInt8>]) throws -> ([BuildEvent], BuildOutcome) {
        let events = Locked<[BuildEvent]>([])
        let outcome = Locked(BuildOutcome())
        let stream = JSONMessageStream { message, raw in
            if let event = outcome.withValue({ $0.absorb(message, raw: raw) }) { events.withValue { $0.append(event) } }
        }
        for chunk in chunks { try Array(chunk).withUnsafeBytes { try stream.feed($0) } }
        stream.finish()
        return (events.current, outcome.current)
    }

    static func pushEvents(_ chunks: [ArraySlice<UInt8>]) throws -> ([PushEvent], PushOutcome) {
        let events = Locked<[PushEvent]>([])
        let outcome = Locked(PushOutcome())
        let stream = JSONMessageStream { message, _ in
            guard let message else { return }
            let event = PushEvent(message)
            outcome.withValue { $0.absorb(event) }
            events.withValue { $0.append(event) }
        }
        for chunk in chunks { try Array(chunk).withUnsafeBytes { try stream.feed($0) } }
        stream.finish()
        return (events.current, outcome.current)
    }

    @Test func failingBuildReportsTheDaemonsMessage() throws {
        let (events, outcome) = try Self.buildEvents([Self.failingBuild[...]])
        let message = "The command '/bin/sh -c echo héllo && exit 3' returned a non-zero code: 3"
        #expect(outcome.failureMessage == message)
        #expect(events.first == .output("Step 1/2 : FROM busybox:local"))
        #expect(events.contains(.output("héllo\n")))
        #expect(events.last == .error(message: message))
        #expect(events.count == 7)
    }

    @Test func successfulBuildGivesTheImageIDAndProgress() throws {
        let (events, outcome) = try Self.buildEvents([Self.successfulBuild[...]])
        #expect(outcome.imageID == "sha256:80adc0acae8483c1ab90f0f3464c7c3d00a84c9c87572be950a332c10e195f62")
        #expect(outcome.shortImageID == "80adc0acae84")
        #expect(outcome.failureMessage == nil)
        #expect(events.contains(.status(id: "a1b2", status: "Pulling fs layer", progress: nil)))
        #expect(events.contains(.status(id: "a1b2", status: "Downloading", progress: ProgressDetail(current: 1024, total: 4096))))
        #expect(events.contains(.imageID("sha256:80adc0acae8483c1ab90f0f3464c7c3d00a84c9c87572be950a332c10e195f62")))
    }

    /// Every possible cut into two chunks, and byte-by-byte, give exactly the events of the whole stream.
    @Test(arguments: ["failing", "successful"])
    func buildLinesSplitAtEveryByteBoundary(_ which: String) throws {
        let bytes = which == "failing" ? Self.failingBuild : Self.successfulBuild
        let (whole, wholeOutcome) = try Self.buildEvents([bytes[...]])
        for cut in 0...bytes.count {
            let (events, outcome) = try Self.buildEvents([bytes[..<cut], bytes[cut...]])
            #expect(events == whole, "cut at \(cut)")
            #expect(outcome.failureMessage == wholeOutcome.failureMessage && outcome.imageID == wholeOutcome.imageID)
        }
        let (single, _) = try Self.buildEvents(bytes.indices.map { bytes[$0...$0] })
        #expect(single == whole)
    }

    @Test func pushLinesSplitAtEveryByteBoundary() throws {
        let bytes = Self.push
        let (whole, wholeOutcome) = try Self.pushEvents([bytes[...]])
        #expect(whole.count == 6)
        #expect(whole[2] == PushEvent(id: "5f70bf18a086", status: .pushing, progress: ProgressDetail(current: 512, total: 2048)))
        #expect(whole[1].progress == nil)
        // The aux line wins over the older status-line form.
        #expect(wholeOutcome.result == PushResult(tag: "1.0", digest: "sha256:" + String(repeating: "2", count: 64), size: 528))
        for cut in 0...bytes.count {
            let (events, outcome) = try Self.pushEvents([bytes[..<cut], bytes[cut...]])
            #expect(events == whole, "cut at \(cut)")
            #expect(outcome.result == wholeOutcome.result)
        }
        let (single, _) = try Self.pushEvents(bytes.indices.map { bytes[$0...$0] })
        #expect(single == whole)
    }

    @Test func pushErrorDetailIsAFailure() throws {
        let line = Array(
            "{\"errorDetail\":{\"message\":\"unauthorized: authentication required\"},\"error\":\"unauthorized: authentication required\"}".utf8)
        let (events, outcome) = try Self.pushEvents([line[...]])  // no trailing newline: finish() delivers it
        #expect(events.count == 1)
        #expect(outcome.failureMessage == "unauthorized: authentication required")
        #expect(DockerError.pushFailed(message: outcome.failureMessage!).description.contains("unauthorized"))
    }

    @Test func digestStatusLineIsUnderstoodWithoutAux() throws {
        let line = Array("{\"status\":\"v2: digest: sha256:\(String(repeating: "a", count: 64)) size: 1234\"}\n".utf8)
        let (_, outcome) = try Self.pushEvents([line[...]])
        #expect(outcome.result == PushResult(tag: "v2", digest: "sha256:" + String(repeating: "a", count: 64), size: 1234))
    }

    @Test func blankLinesAndNonJSONAreHandled() throws {
        var splitter = JSONLineSplitter()
        #expect(try splitter.feed(Array("\r\n\n  \n{\"a\":1}\r\n{\"b\"".utf8)) == [Array("{\"a\":1}".utf8)])
        #expect(try splitter.feed(Array(":2}".utf8)) == [])
        #expect(splitter.finish() == Array("{\"b\":2}".utf8))
        #expect(splitter.finish() == nil)
        let (events, _) = try Self.buildEvents([Array("not json\n".utf8)[...]])
        #expect(events == [.output("not json\n")])
    }

    @Test func unknownAuxShapesAreIgnoredNotFatal() {
        let message = JSONMessage.decode(Array("{\"aux\":[1,2,3],\"stream\":\"x\"}".utf8))
        #expect(message?.stream == "x")
        #expect(message?.aux == nil)
    }
}
