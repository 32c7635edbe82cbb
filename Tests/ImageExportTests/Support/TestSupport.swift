import Foundation
import Hashing
import ImageExport
import TestWorld

#if canImport(Glibc)
import Glibc
#endif

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a shell script (real tar, gzip, sha256sum) and fails with its output if it exits non-zero.
@discardableResult
func shell(_ script: String, in directory: String? = nil) async throws -> String {
    let result = try await runProcess("/bin/sh", ["-c", script], currentDirectory: directory.map { URL(fileURLWithPath: $0) })
    guard result.status == 0 else { throw TestFailure("`\(script)` failed (\(result.status)): \(result.combinedText)") }
    return result.stdoutText
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { throw TestFailure("cannot read \(path)") }
    return [UInt8](data)
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let directory = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw TestFailure("cannot write \(path)") }
}

func writeFile(_ path: String, _ text: String) throws { try writeFile(path, Array(text.utf8)) }

func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

func sha256(_ bytes: [UInt8]) -> String { SHA256.hash(bytes).ociDigest }

/// Deterministic pseudo-random bytes (xorshift), incompressible enough for gzip tests.
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var out = [UInt8](repeating: 0, count: count)
    out.withUnsafeMutableBytes { buffer in
        var index = 0
        while index < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            var word = state
            for _ in 0..<8 where index < count {
                buffer[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
    }
    return out
}

/// Compressible text-like bytes.
func textBytes(_ count: Int) -> [UInt8] {
    let line = Array("the quick brown fox jumps over the lazy dog 0123456789\n".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(count)
    var number = 0
    while out.count < count {
        out.append(contentsOf: line)
        out.append(contentsOf: Array(String(number).utf8))
        number += 1
    }
    return Array(out.prefix(count))
}

/// Chunk sizes to split a stream into: a fixed size, or a seeded random mix of small and large pieces.
enum Chunking: Sendable, CustomStringConvertible {
    case fixed(Int)
    case random(seed: UInt64)

    var description: String {
        switch self {
        case .fixed(let size): return "fixed(\(size))"
        case .random(let seed): return "random(\(seed))"
        }
    }

    func split(_ count: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var offset = 0
        var state: UInt64 = {
            if case .random(let seed) = self { return seed | 1 }
            return 1
        }()
        let interesting = [1, 2, 511, 512, 513, 1000, 4096, 65536, 100_000]
        while offset < count {
            let size: Int
            switch self {
            case .fixed(let fixed): size = fixed
            case .random:
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                size = interesting[Int(state % UInt64(interesting.count))]
            }
            let end = min(offset + size, count)
            ranges.append(offset..<end)
            offset = end
        }
        return ranges
    }
}

/// Feeds `bytes` to `feed` in the chunks `chunking` gives.
func feedInChunks(_ bytes: [UInt8], _ chunking: Chunking, _ feed: (UnsafeRawBufferPointer) throws -> Void) throws {
    try bytes.withUnsafeBytes { buffer in
        for range in chunking.split(buffer.count) {
            try feed(UnsafeRawBufferPointer(rebasing: buffer[range]))
        }
    }
}
