import Foundation
import TestWorld
import Testing

@testable import ImageExport

/// `--compression zstd`: standard frames any zstd reader takes, the same bytes whatever the cores or chunks.
@Suite struct ZstdCompressorTests {
    static func input() -> [UInt8] {
        let line = Array("zstd layers for engines that pull them, line after line\n".utf8)
        var generator = SystemRandomNumberGenerator()
        return (0..<(3 << 20)).map { line[$0 % line.count] } + (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func compress(_ input: [UInt8], threads: Int, chunk: Int) throws -> [UInt8] {
        let compressor = try ZstdCompressor(level: 3, threads: threads)
        var out: [UInt8] = []
        let sink: (UnsafeRawBufferPointer) throws -> Void = { out.append(contentsOf: $0) }
        try input.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let end = min(all.count, offset + chunk)
                try compressor.compress(UnsafeRawBufferPointer(rebasing: all[offset..<end]), sink: sink)
                offset = end
            }
        }
        try compressor.finish(sink: sink)
        #expect(compressor.bytesIn == Int64(input.count))
        #expect(compressor.bytesOut == Int64(out.count))
        return out
    }

    @Test func roundTripsThroughTheZstdToolAndIsDeterministic() async throws {
        let input = Self.input()
        let reference = try Self.compress(input, threads: 1, chunk: 1 << 20)
        #expect(reference.starts(with: [0x28, 0xb5, 0x2f, 0xfd]), "a zstd frame")
        #expect(reference.count < input.count / 2)
        for (threads, chunk) in [(2, 1000), (4, 65536), (2, 3 << 20)] {
            #expect(
                try Self.compress(input, threads: threads, chunk: chunk) == reference,
                "\(threads) threads, \(chunk)-byte chunks give the same bytes")
        }
        let directory = TemporaryDirectory()
        try Data(reference).write(to: URL(fileURLWithPath: directory.path + "/layer.zst"))
        let decoded = try await runProcess(
            "sh", ["-c", "zstd -t -q layer.zst && zstd -dc layer.zst | sha256sum"],
            currentDirectory: URL(fileURLWithPath: directory.path))
        let expected = try await runProcess("sha256sum", stdin: Data(input))
        #expect(decoded.status == 0, "\(decoded.combinedText)")
        #expect(decoded.stdoutText == expected.stdoutText)
    }

    @Test func emptyInputAndBadLevels() throws {
        let empty = try ZstdCompressor.compress([])
        #expect(empty.starts(with: [0x28, 0xb5, 0x2f, 0xfd]))
        #expect(throws: ImageExportError.invalidCompressionLevel(0, .zstd)) { try ZstdCompressor(level: 0) }
        #expect(throws: ImageExportError.invalidCompressionLevel(20, .zstd)) { try ZstdCompressor(level: 20) }
        #expect(ImageExportError.invalidCompressionLevel(20, .zstd).description.contains("1 (fastest) to 19"))
    }
}
