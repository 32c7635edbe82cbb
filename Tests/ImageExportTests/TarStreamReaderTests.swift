import Foundation
import TestWorld
import Testing

@testable import ImageExport

/// The streaming tar reader against archives written by GNU tar, fed in chunks of every awkward size.
@Suite struct TarStreamReaderTests {
    struct Expected {
        var kind: TarEntryHeader.Kind
        var size: Int64 = 0
        var digest: String?
        var linkTarget = ""
    }

    static let longDirectory = String(repeating: "d", count: 70) + "/" + String(repeating: "e", count: 70)
    static let longName = longDirectory + "/" + String(repeating: "f", count: 120) + ".txt"
    static let longLinkTarget = String(repeating: "t", count: 90) + "/" + String(repeating: "u", count: 60)
    /// Fits ustar only through its 155-byte prefix field.
    static let prefixedName = String(repeating: "p", count: 80) + "/" + String(repeating: "q", count: 60) + ".txt"

    /// A tree with every kind of entry the reader must handle; returns what each entry must look like.
    static func makeTree(in root: String, ustarOnly: Bool) throws -> [String: Expected] {
        let tree = root + "/tree"
        var expected: [String: Expected] = ["tree/": Expected(kind: .directory), "tree/dir/": Expected(kind: .directory)]
        func file(_ name: String, _ bytes: [UInt8]) throws {
            try writeFile(tree + "/" + name, bytes)
            expected["tree/" + name] = Expected(kind: .regular, size: Int64(bytes.count), digest: sha256(bytes))
        }
        try FileManager.default.createDirectory(atPath: tree + "/dir", withIntermediateDirectories: true)
        try file("empty.txt", [])
        try file("small.txt", Array("hello\n".utf8))
        try file("exact512.bin", randomBytes(512, seed: 1))
        try file("big.bin", randomBytes(300_000, seed: 2))
        try file("dir/text.txt", textBytes(70_001))
        try file(prefixedName, Array("prefixed\n".utf8))
        try FileManager.default.createSymbolicLink(atPath: tree + "/link", withDestinationPath: "small.txt")
        expected["tree/link"] = Expected(kind: .symbolicLink, linkTarget: "small.txt")
        guard link(tree + "/big.bin", tree + "/hard") == 0 else { throw TestFailure("link failed") }
        expected["tree/hard"] = Expected(kind: .hardLink, linkTarget: "tree/big.bin")
        for directory in [String(repeating: "p", count: 80)] { expected["tree/\(directory)/"] = Expected(kind: .directory) }
        if !ustarOnly {
            try file(longName, Array("long\n".utf8))
            for directory in [String(repeating: "d", count: 70), longDirectory] { expected["tree/\(directory)/"] = Expected(kind: .directory) }
            try FileManager.default.createSymbolicLink(atPath: tree + "/longlink", withDestinationPath: longLinkTarget)
            expected["tree/longlink"] = Expected(kind: .symbolicLink, linkTarget: longLinkTarget)
            try file("ünïcødé.txt", Array("utf8\n".utf8))
        }
        return expected
    }

    /// Writes the tree with `tar --format=<format>` (blocking factor 1: no padding after the end marker).
    static func makeArchive(format: String) async throws -> (archive: [UInt8], expected: [String: Expected]) {
        let directory = TemporaryDirectory(prefix: "iet")
        let expected = try makeTree(in: directory.path, ustarOnly: format == "ustar")
        try await shell("tar --format=\(format) --sort=name -b 1 -cf archive.tar tree", in: directory.path)
        return (try readFile(directory.path + "/archive.tar"), expected)
    }

    static func check(_ collector: TarCollector, against expected: [String: Expected]) {
        let byPath = collector.byPath
        #expect(Set(byPath.keys) == Set(expected.keys))
        #expect(collector.entries.count == expected.count)
        for (path, want) in expected {
            guard let entry = byPath[path] else { continue }
            #expect(entry.header.kind == want.kind, "\(path)")
            #expect(entry.header.size == want.size, "\(path)")
            #expect(entry.byteCount == want.size, "\(path)")
            #expect(entry.finishCount == 1, "\(path)")
            #expect(entry.header.linkTarget == want.linkTarget, "\(path)")
            if let digest = want.digest { #expect(entry.digest == digest, "\(path)") }
        }
    }

    static let chunkings: [Chunking] = [.fixed(1), .fixed(511), .fixed(512), .fixed(513), .fixed(65536), .random(seed: 7), .random(seed: 99)]

    @Test(arguments: ["gnu", "pax", "ustar"], chunkings)
    func readsRealTarArchives(format: String, chunking: Chunking) async throws {
        let (archive, expected) = try await Self.makeArchive(format: format)
        let collector = TarCollector()
        let reader = collector.makeReader()
        try feedInChunks(archive, chunking) { try reader.feed($0) }
        try reader.finish()
        #expect(reader.isAtEnd)
        #expect(reader.offset == Int64(archive.count))
        Self.check(collector, against: expected)
    }

    @Test func ignoresRecordPaddingAfterTheEndMarker() async throws {
        let directory = TemporaryDirectory(prefix: "iet")
        let expected = try Self.makeTree(in: directory.path, ustarOnly: false)
        // Default blocking factor 20: the archive is padded with zeros to a multiple of 10 KiB.
        try await shell("tar --format=gnu --sort=name -cf archive.tar tree && printf 'trailing junk' >> archive.tar", in: directory.path)
        let archive = try readFile(directory.path + "/archive.tar")
        #expect(archive.count % 10240 == 13)
        let collector = TarCollector()
        let reader = collector.makeReader()
        try feedInChunks(archive, .random(seed: 3)) { try reader.feed($0) }
        try reader.finish()
        Self.check(collector, against: expected)
    }

    @Test(arguments: ["gnu", "pax"])
    func truncatedStreamsAreErrors(format: String) async throws {
        let (archive, _) = try await Self.makeArchive(format: format)
        let endMarker = archive.count - 1024
        // Inside the first header, just after it, in the middle of the file contents, before and inside the end marker.
        for cut in [1, 511, 513, archive.count / 2, endMarker, endMarker + 512, archive.count - 1] {
            let collector = TarCollector()
            let reader = collector.makeReader()
            try reader.feed(Array(archive[0..<cut]))
            #expect(throws: ImageExportError.self, "cut at \(cut)") { try reader.finish() }
            do {
                try reader.finish()
            } catch let error as ImageExportError {
                guard case .truncatedArchive(let offset, _) = error else {
                    Issue.record("cut at \(cut): \(error)")
                    continue
                }
                #expect(offset == Int64(cut))
            }
        }
        // Cut inside a big file: the error names it.
        let collector = TarCollector()
        let reader = collector.makeReader()
        try reader.feed(Array(archive[0..<(archive.count / 2)]))
        let inside = collector.entries.last!.header.path
        #expect(throws: ImageExportError.truncatedArchive(offset: Int64(archive.count / 2), entry: inside)) { try reader.finish() }
    }

    @Test func base256SizeField() throws {
        let content = randomBytes(1000, seed: 5)
        // GNU base-256: marker bit 0x80 in the first byte, then the value big-endian.
        var sizeField = [UInt8](repeating: 0, count: 12)
        sizeField[0] = 0x80
        sizeField[10] = UInt8(1000 >> 8)
        sizeField[11] = UInt8(1000 & 0xff)
        let archive =
            TarBlocks.header(name: "big256.bin", sizeField: sizeField) + TarBlocks.padded(content)
            + TarBlocks.header(name: "after.txt", size: 3) + TarBlocks.padded(Array("abc".utf8)) + TarBlocks.endMarker
        for chunking in [Chunking.fixed(1), .fixed(700)] {
            let collector = TarCollector()
            let reader = collector.makeReader()
            try feedInChunks(archive, chunking) { try reader.feed($0) }
            try reader.finish()
            #expect(collector.entries.map(\.header.path) == ["big256.bin", "after.txt"])
            #expect(collector.entries[0].header.size == 1000)
            #expect(collector.entries[0].digest == sha256(content))
            #expect(collector.entries[1].digest == sha256(Array("abc".utf8)))
        }
    }

    @Test func paxRecordsOverrideSizePathAndLink() throws {
        let content = randomBytes(700, seed: 6)
        let longPath = String(repeating: "x", count: 300) + "/file.bin"
        let records = TarBlocks.paxRecords([("path", longPath), ("size", "700"), ("mtime", "1700000123.5")])
        let global = TarBlocks.paxRecords([("comment", "made by a test")])
        let linkRecords = TarBlocks.paxRecords([("linkpath", "target/of/" + String(repeating: "l", count: 200))])
        let archive =
            TarBlocks.header(name: "pax_global_header", typeFlag: "g", size: Int64(global.count)) + TarBlocks.padded(global)
            // The ustar size field says 0: the PAX size wins.
            + TarBlocks.header(name: "PaxHeaders/file", typeFlag: "x", size: Int64(records.count)) + TarBlocks.padded(records)
            + TarBlocks.header(name: "truncated-name", size: 0) + TarBlocks.padded(content)
            + TarBlocks.header(name: "PaxHeaders/link", typeFlag: "x", size: Int64(linkRecords.count)) + TarBlocks.padded(linkRecords)
            + TarBlocks.header(name: "link", typeFlag: "2", linkName: "short")
            + TarBlocks.header(name: "plain.txt", size: 2) + TarBlocks.padded(Array("ok".utf8)) + TarBlocks.endMarker
        let collector = TarCollector()
        let reader = collector.makeReader()
        try feedInChunks(archive, .fixed(100)) { try reader.feed($0) }
        try reader.finish()
        #expect(collector.entries.map(\.header.path) == [longPath, "link", "plain.txt"])
        #expect(collector.entries[0].header.size == 700)
        #expect(collector.entries[0].header.modificationTime == 1_700_000_123)
        #expect(collector.entries[0].header.headerOffset == 512 * 2)
        #expect(collector.entries[0].digest == sha256(content))
        #expect(collector.entries[1].header.linkTarget == "target/of/" + String(repeating: "l", count: 200))
        #expect(collector.entries[2].digest == sha256(Array("ok".utf8)))
    }

    @Test func malformedHeadersAreErrors() throws {
        var corrupt = TarBlocks.header(name: "a.txt", size: 1)
        corrupt[0] ^= 0x01  // checksum no longer matches
        #expect(throws: ImageExportError.malformedArchive(offset: 0, reason: "header checksum mismatch")) {
            try TarCollector().makeReader().feed(corrupt)
        }
        // A single zero block followed by another header is not an end marker.
        let lone =
            TarBlocks.header(name: "a.txt", size: 1) + TarBlocks.padded([1]) + [UInt8](repeating: 0, count: 512)
            + TarBlocks.header(name: "b.txt")
        #expect(throws: ImageExportError.self) { try TarCollector().makeReader().feed(lone) }
        let badSize = TarBlocks.header(name: "c.txt", sizeField: Array("12x4567\0\0\0\0\0".utf8))
        #expect(throws: ImageExportError.self) { try TarCollector().makeReader().feed(badSize) }
    }

    @Test func consumerErrorsStopTheReader() throws {
        struct Refused: Error {}
        final class Refusing: TarEntryConsumer {
            func consume(_ bytes: UnsafeRawBufferPointer) throws { throw Refused() }
            func finish() throws {}
        }
        let archive = TarBlocks.header(name: "a.txt", size: 3) + TarBlocks.padded(Array("abc".utf8)) + TarBlocks.endMarker
        let reader = TarStreamReader { _ in Refusing() }
        #expect(throws: Refused.self) { try reader.feed(archive) }
    }
}
