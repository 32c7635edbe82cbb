import Foundation
import TestWorld
import Testing

/// The push's progress lines in a CI log (stderr not a TTY), as a reader of the log sees them.
@Suite struct ProgressLinesTests {
    /// One size as the lines write it ("512B", "19.5KiB"), in bytes.
    static func bytes(_ number: Substring, _ unit: Substring) -> Double {
        let scale: [Substring: Double] = ["B": 1, "KiB": 1024, "MiB": 1024 * 1024, "GiB": 1024 * 1024 * 1024]
        return (Double(number) ?? .nan) * (scale[unit] ?? .nan)
    }

    /// The Engine counts a layer's tar (headers and padding included) against the size of its files: a layer of one
    /// small file is counted past its "total". The line then gives the count alone, never "512B/17B".
    @Test func aSmallLayersCountNeverReadsAsMoreThanItsTotal() async throws {
        let world = try await BuildAndPushTests.World.start()
        defer { world.moto.stop() }
        let context = TemporaryDirectory()
        try "FROM \(DockerDaemon.baseImage)\nRUN echo a-small-layer > /small.txt\n".write(
            toFile: context.path + "/Dockerfile", atomically: true, encoding: .utf8)
        let result = try await ECRPushCLI.run(
            [
                "build-and-push", context.path, "--repository", BuildAndPushTests.uniqueName("small-layer"), "--tag", "v1",
                "--create-repository", "--transport", "daemon"
            ],
            environment: world.environment)
        try #require(result.status == 0, "\(result.combinedText)")
        let pushing = result.stderrText.split(separator: "\n").compactMap {
            $0.wholeMatch(of: /[0-9a-f]{12}: Pushing ([0-9.]+)(B|KiB|MiB|GiB)(?:\/([0-9.]+)(B|KiB|MiB|GiB))?( .*)?/)
        }
        #expect(!pushing.isEmpty, "\(result.stderrText)")
        for line in pushing {
            guard let total = line.3, let unit = line.4 else { continue }
            #expect(Self.bytes(line.1, line.2) <= Self.bytes(total, unit), "\(line.0)")
        }
        #expect(pushing.contains { $0.3 == nil }, "the small layer's count alone: \(result.stderrText)")
    }
}
