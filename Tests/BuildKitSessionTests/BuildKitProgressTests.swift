import Foundation
import Testing

@testable import BuildKitSession

/// BuildKit's trace as the Engine sends it, decoded and shown as docker buildx's plain progress.
@Suite struct BuildKitProgressTests {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)

    @Test func traceRoundTripsThroughItsProtobufAndBase64() throws {
        let status = BuildKitStatus(
            vertexes: [.init(digest: "sha256:a", inputs: ["sha256:0"], name: "[2/2] RUN make", started: Self.t0, error: "exit code: 2")],
            statuses: [.init(id: "layer", vertex: "sha256:a", current: 5, total: 10, completed: Self.t0)],
            logs: [.init(vertex: "sha256:a", timestamp: Self.t0, stream: 2, data: Array("oops\n".utf8))],
            warnings: [.init(vertex: "sha256:a", short: "careful")])
        let line = "{\"id\":\"moby.buildkit.trace\",\"aux\":\"\(try status.protobufBytes().base64EncodedString())\"}"
        let aux = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])["aux"]
        #expect(try BuildKitStatus(traceAux: aux!) == status)
        #expect(throws: BuildKitError.self) { try BuildKitStatus(traceAux: "not base64!") }
    }

    /// A real trace line from the Debian 20.10 Engine decodes (fields BuildKit adds later are skipped).
    @Test func decodesAnEngineTraceLine() throws {
        let aux =
            "CosBCkdzaGEyNTY6MDg1NDNlMTc0ZDYwNDcxZjI5ZjRiOTFlYmZkZDUzYTQzODdiMDYxMmU0MDhmMDcwZGRiN2E3YWU0NDA2Y2VlMxokW2ludGVybmFsXSBsb2FkIHJl"
            + "bW90ZSBidWlsZCBjb250ZXh0KgwI1IzB2AYQ9ay8iQIyDAjUjMHYBhCo7v2qAg=="
        let status = try BuildKitStatus(traceAux: aux)
        let vertex = try #require(status.vertexes.first)
        #expect(vertex.name == "[internal] load remote build context")
        #expect(vertex.digest.hasPrefix("sha256:08543e17"))
        #expect(vertex.started != nil && vertex.completed != nil)
    }

    @Test func plainLinesLikeBuildx() {
        var progress = BuildKitProgress(startedAt: Self.t0)
        let run = "sha256:run"
        var lines = progress.absorb(
            BuildKitStatus(vertexes: [
                .init(digest: "sha256:from", name: "[1/2] FROM busybox", cached: true, started: Self.t0, completed: Self.t0),
                .init(digest: run, inputs: ["sha256:from"], name: "[2/2] RUN make", started: Self.t0)
            ]))
        lines += progress.absorb(
            BuildKitStatus(logs: [
                .init(vertex: run, timestamp: Self.t0.addingTimeInterval(0.25), data: Array("compiling\npart".utf8)),
                .init(vertex: run, timestamp: Self.t0.addingTimeInterval(0.5), data: Array("ial\n".utf8))
            ]))
        lines += progress.absorb(
            BuildKitStatus(vertexes: [.init(digest: run, name: "[2/2] RUN make", started: Self.t0, completed: Self.t0.addingTimeInterval(1.25))]))
        #expect(
            lines == [
                "#1 [1/2] FROM busybox", "", "#2 [2/2] RUN make", "", "#1 [1/2] FROM busybox", "#1 CACHED", "", "#2 [2/2] RUN make",
                "#2 0.250 compiling", "#2 0.500 partial", "#2 DONE 1.2s"
            ])
        #expect(progress.failure == nil)
        #expect(progress.counts == (2, 2))
    }

    @Test func failureKeepsTheStepAndItsLastLines() {
        var progress = BuildKitProgress(startedAt: Self.t0)
        let run = "sha256:run"
        _ = progress.absorb(BuildKitStatus(vertexes: [.init(digest: run, name: "[2/2] RUN ./test.sh", started: Self.t0)]))
        let output = (1...15).map { "line \($0)" }.joined(separator: "\n") + "\nno newline"
        _ = progress.absorb(BuildKitStatus(logs: [.init(vertex: run, timestamp: Self.t0, data: Array(output.utf8))]))
        let lines = progress.absorb(
            BuildKitStatus(vertexes: [
                .init(digest: run, name: "[2/2] RUN ./test.sh", started: Self.t0, completed: Self.t0, error: "exit code: 1"),
                .init(digest: "sha256:other", name: "[stage 1/1] RUN sleep 9", started: Self.t0, completed: Self.t0, error: "context canceled")
            ]))
        #expect(lines.contains("#1 no newline"))
        #expect(lines.contains("#1 ERROR: exit code: 1"))
        let failure = progress.failure
        #expect(failure?.step == "[2/2] RUN ./test.sh")
        #expect(failure?.error == "exit code: 1")
        #expect(failure?.lastLines == (7...15).map { "line \($0)" } + ["no newline"])
    }

    @Test func terminalFrameShowsRunningStepsWithTheirOutput() {
        var progress = BuildKitProgress(startedAt: Self.t0)
        _ = progress.absorb(
            BuildKitStatus(
                vertexes: [
                    .init(digest: "a", name: "[1/2] FROM busybox", cached: true, started: Self.t0, completed: Self.t0),
                    .init(digest: "b", name: "[2/2] RUN make", started: Self.t0), .init(digest: "c", name: "exporting to image")
                ],
                logs: [.init(vertex: "b", timestamp: Self.t0, data: Array("cc -o app\u{1B}[1m\n".utf8))]))
        let frame = progress.frame(now: Self.t0.addingTimeInterval(2), width: 40)
        #expect(frame.count == 4)
        #expect(frame[0] == "[+] Building 2.0s (1/3)")
        #expect(frame[1].hasPrefix(" => CACHED [1/2] FROM busybox") && frame[1].hasSuffix("0.0s") && frame[1].count == 40)
        #expect(frame[2].hasPrefix(" => [2/2] RUN make") && frame[2].hasSuffix("2.0s"))
        #expect(frame[3] == " => => # cc -o app [1m", "control characters are not sent to the terminal")
    }
}
