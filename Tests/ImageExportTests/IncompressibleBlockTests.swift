import Foundation
import TestWorld
import Testing

@testable import ImageExport

/// Incompressible blocks are stored rather than deflated; the stream stays standard gzip either way.
@Suite struct IncompressibleBlockTests {
    static func random(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func text(_ count: Int) -> [UInt8] {
        let line = Array("layer contents that compress well, line after line of configuration text\n".utf8)
        return (0..<count).map { line[$0 % line.count] }
    }

    @Test func randomBytesAreStoredAndTextIsCompressed() throws {
        let random = Self.random(3 << 20)
        let text = Self.text(3 << 20)
        let storedRandom = try ParallelGzipCompressor.compress(random, level: 6)
        let compressedText = try ParallelGzipCompressor.compress(text, level: 6)
        // Stored blocks add a few bytes per 64 KiB; deflate of random bytes would not save anything either.
        #expect(storedRandom.count > random.count && storedRandom.count < random.count + random.count / 500)
        #expect(compressedText.count < text.count / 10)
        #expect(try GzipDecompressor.decompress(storedRandom) == random)
        #expect(try GzipDecompressor.decompress(compressedText) == text)
    }

    /// A mix (text, then random, then text) round-trips through the real gzip, and the same input always gives
    /// the same bytes (digests must not change between pushes).
    @Test func mixedInputRoundTripsThroughGzipAndIsDeterministic() async throws {
        let input = Self.text(2 << 20) + Self.random(2 << 20) + Self.text(1 << 20)
        let first = try ParallelGzipCompressor.compress(input, level: 6, threads: 2)
        let second = try ParallelGzipCompressor.compress(input, level: 6, threads: 1)
        #expect(first == second)
        let directory = TemporaryDirectory()
        let path = directory.path + "/mixed.gz"
        try Data(first).write(to: URL(fileURLWithPath: path))
        let result = try await runProcess("sh", ["-c", "gzip -dc '\(path)' | sha256sum"])
        #expect(result.status == 0)
        let expected = try await runProcess("sha256sum", stdin: Data(input))
        #expect(result.stdoutText == expected.stdoutText)
    }

    @Test func sampleDecision() {
        let block = DeflateBlock(capacity: 512 << 10, level: 6)
        let random = Self.random(512 << 10)
        random.withUnsafeBytes { block.input.copyMemory(from: $0) }
        block.count = random.count
        #expect(block.looksIncompressible())
        let text = Self.text(512 << 10)
        text.withUnsafeBytes { block.input.copyMemory(from: $0) }
        #expect(!block.looksIncompressible())
        block.count = 1000  // too small to judge: compressed as usual
        #expect(!block.looksIncompressible())
    }
}
