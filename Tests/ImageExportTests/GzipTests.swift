import Foundation
import TestWorld
import Testing

@testable import ImageExport

/// ParallelGzipCompressor output checked by the real `gzip -d`, and GzipDecompressor against the real `gzip`.
@Suite struct GzipTests {
    /// Compresses in uneven chunks and writes the gzip stream to `path`.
    static func compress(_ input: [UInt8], level: Int, to path: String, chunking: Chunking = .random(seed: 11)) throws -> [UInt8] {
        let compressor = try ParallelGzipCompressor(level: level, threads: 2, blockSize: 64 * 1024)
        var output: [UInt8] = []
        var pieces = 0
        let sink: (UnsafeRawBufferPointer) throws -> Void = {
            output.append(contentsOf: $0); pieces += 1
        }
        try feedInChunks(input, chunking) { try compressor.compress($0, sink: sink) }
        try compressor.finish(sink: sink)
        #expect(compressor.bytesIn == Int64(input.count))
        #expect(compressor.bytesOut == Int64(output.count))
        try writeFile(path, output)
        return output
    }

    @Test(arguments: [0, 1, 6, 9])
    func realGzipDecompressesEveryLevel(level: Int) async throws {
        let directory = TemporaryDirectory(prefix: "iegz")
        let input = textBytes(1_500_000) + randomBytes(200_000, seed: UInt64(level) + 1)
        try writeFile(directory.path + "/original", input)
        let compressed = try Self.compress(input, level: level, to: directory.path + "/data.gz")
        if level > 0 { #expect(compressed.count < input.count / 2) }
        try await shell("gzip -t data.gz && gzip -dc data.gz | cmp - original", in: directory.path)
        #expect(try GzipDecompressor.decompress(compressed) == input)
    }

    @Test func incompressibleDataStaysCloseToItsSize() async throws {
        let directory = TemporaryDirectory(prefix: "iegz")
        let input = randomBytes(1 << 20, seed: 77)
        try writeFile(directory.path + "/original", input)
        let compressed = try Self.compress(input, level: 6, to: directory.path + "/data.gz", chunking: .fixed(1))
        // Stored blocks cost 5 bytes per 64 KiB, plus an 18-byte gzip header and trailer per 64 KiB member.
        #expect(compressed.count <= input.count + input.count / 1000 + 64 * 18)
        try await shell("gzip -dc data.gz | cmp - original", in: directory.path)
    }

    @Test func emptyInputIsAValidEmptyGzip() async throws {
        let directory = TemporaryDirectory(prefix: "iegz")
        let compressed = try Self.compress([], level: 6, to: directory.path + "/empty.gz")
        #expect(compressed.starts(with: [0x1f, 0x8b]))
        let output = try await shell("gzip -dc empty.gz | wc -c", in: directory.path)
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(try GzipDecompressor.decompress(compressed) == [])
    }

    @Test func invalidLevelsAreRejected() {
        #expect(throws: ImageExportError.invalidCompressionLevel(10)) { try ParallelGzipCompressor(level: 10) }
        #expect(throws: ImageExportError.invalidCompressionLevel(-1)) { try ParallelGzipCompressor(level: -1) }
    }

    @Test(arguments: [Chunking.fixed(1), .fixed(4096), .random(seed: 5)])
    func decompressesRealGzipOutput(chunking: Chunking) async throws {
        let directory = TemporaryDirectory(prefix: "iegz")
        let first = textBytes(300_000)
        let second = randomBytes(100_000, seed: 9)
        try writeFile(directory.path + "/first", first)
        try writeFile(directory.path + "/second", second)
        // Two gzip members back to back are one valid gzip stream (RFC 1952 §2.2).
        try await shell("gzip -c -9 first > both.gz && gzip -c -1 second >> both.gz", in: directory.path)
        let compressed = try readFile(directory.path + "/both.gz")
        let decompressor = try GzipDecompressor(bufferSize: 8192)
        var output: [UInt8] = []
        try feedInChunks(compressed, chunking) { chunk in try decompressor.decompress(chunk) { output.append(contentsOf: $0) } }
        try decompressor.finish()
        #expect(output == first + second)
        #expect(decompressor.bytesIn == Int64(compressed.count))
    }

    @Test func truncatedOrCorruptGzipIsAnError() async throws {
        let compressed = try ParallelGzipCompressor.compress(textBytes(100_000))
        let truncated = GzipDecompressor.self
        let partial = try truncated.init()
        try partial.decompress(Array(compressed.dropLast(10))) { _ in }
        #expect(throws: ImageExportError.self) { try partial.finish() }

        var corrupt = compressed
        corrupt[20] ^= 0xff
        corrupt[21] ^= 0xff
        #expect(throws: ImageExportError.self) { _ = try GzipDecompressor.decompress(corrupt) }
        #expect(throws: ImageExportError.self) { _ = try GzipDecompressor.decompress([]) }
    }

    // MARK: - Parallel compression (one gzip member per block)

    static func parallelCompress(
        _ input: [UInt8], level: Int, threads: Int, blockSize: Int = 64 * 1024,
        chunking: Chunking = .random(seed: 12)
    ) throws -> [UInt8] {
        let compressor = try ParallelGzipCompressor(level: level, threads: threads, blockSize: blockSize)
        var output: [UInt8] = []
        let sink: (UnsafeRawBufferPointer) throws -> Void = { output.append(contentsOf: $0) }
        try feedInChunks(input, chunking) { try compressor.compress($0, sink: sink) }
        try compressor.finish(sink: sink)
        #expect(compressor.bytesIn == Int64(input.count))
        #expect(compressor.bytesOut == Int64(output.count))
        return output
    }

    @Test(arguments: [0, 1, 6, 9])
    func parallelOutputIsValidMultiMemberGzip(level: Int) async throws {
        let directory = TemporaryDirectory(prefix: "iegz")
        let input = textBytes(700_000) + randomBytes(300_000, seed: 3) + textBytes(200_000)
        try writeFile(directory.path + "/original", input)
        let compressed = try Self.parallelCompress(input, level: level, threads: 4)
        try writeFile(directory.path + "/data.gz", compressed)
        if level > 0 { #expect(compressed.count < input.count * 2 / 3) }
        // -t checks every member's CRC; Python's reader is another independent one.
        try await shell("gzip -t data.gz && gzip -dc data.gz | cmp - original", in: directory.path)
        try await shell(
            "python3 -c 'import gzip,sys; sys.stdout.buffer.write(gzip.open(\"data.gz\").read())' | cmp - original",
            in: directory.path)
        #expect(try GzipDecompressor.decompress(compressed) == input)
        // One member per 64 KiB block, each starting with the gzip magic.
        let members = (0..<(compressed.count - 2)).filter { compressed[$0] == 0x1f && compressed[$0 + 1] == 0x8b && compressed[$0 + 2] == 8 }
        #expect(members.count >= (input.count + 65535) / 65536, "at least one member per block")
        // The real gzip at the same level (one stream) is barely smaller, if at all: a block's lost history
        // costs little.
        if level > 0 {
            let serial = try await shell("gzip -c -\(level) original | wc -c", in: directory.path)
            let serialSize = try #require(Double(serial.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(Double(compressed.count) < serialSize * 1.02)
        }
    }

    /// Empty input is one empty member; input of exactly whole blocks gets no trailing empty member.
    @Test func emptyAndWholeBlockInputs() async throws {
        let empty = try Self.parallelCompress([], level: 6, threads: 2)
        #expect(try GzipDecompressor.decompress(empty) == [])
        let directory = TemporaryDirectory(prefix: "iegz")
        try writeFile(directory.path + "/empty.gz", empty)
        #expect(try await shell("gzip -dc empty.gz | wc -c", in: directory.path).trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        let whole = textBytes(2 * 65536)
        let compressed = try Self.parallelCompress(whole, level: 6, threads: 2, chunking: .fixed(65536))
        #expect(try GzipDecompressor.decompress(compressed) == whole)
        let first = try Self.parallelCompress(Array(whole[..<65536]), level: 6, threads: 1)
        let second = try Self.parallelCompress(Array(whole[65536...]), level: 6, threads: 1)
        #expect(compressed == first + second, "two members, nothing after")
    }

    @Test func parallelOutputDoesNotDependOnThreadsOrChunks() throws {
        let input = textBytes(500_000) + randomBytes(250_000, seed: 8)
        let reference = try Self.parallelCompress(input, level: 6, threads: 1, chunking: .fixed(1 << 20))
        for threads in [2, 3, 8] {
            for chunking in [Chunking.fixed(1000), .random(seed: UInt64(threads))] {
                #expect(try Self.parallelCompress(input, level: 6, threads: threads, chunking: chunking) == reference)
            }
        }
    }

    @Test func parallelEdgeSizes() async throws {
        let directory = TemporaryDirectory(prefix: "iegz")
        // Empty, one byte, exactly one and two blocks, one byte past a block.
        for size in [0, 1, 65536, 131072, 65537] {
            let input = textBytes(size)
            let compressed = try Self.parallelCompress(input, level: 6, threads: 2)
            try writeFile(directory.path + "/original", input)
            try writeFile(directory.path + "/data.gz", compressed)
            try await shell("gzip -t data.gz && gzip -dc data.gz | cmp - original", in: directory.path)
            #expect(try GzipDecompressor.decompress(compressed) == input, "size \(size)")
        }
        let incompressible = randomBytes(1 << 20, seed: 31)
        let compressed = try Self.parallelCompress(incompressible, level: 9, threads: 2)
        #expect(compressed.count <= incompressible.count + incompressible.count / 1000 + 1024)
        #expect(try GzipDecompressor.decompress(compressed) == incompressible)
    }
}
