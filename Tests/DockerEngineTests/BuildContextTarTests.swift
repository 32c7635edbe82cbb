import Foundation
import TestWorld
import Testing

@testable import DockerEngine

/// The build context tar, checked by the real GNU tar: listing, extraction, and comparison with the source tree.
@Suite struct BuildContextTarTests {
    static let fixedTime = 1_600_000_000

    /// Everything a context can hold: modes, setuid, symlinks, empty and nested directories, long and
    /// non-ASCII names, empty and binary files.
    static func makeRichContext(_ tree: FileTree) throws -> [String: [UInt8]] {
        var contents: [String: [UInt8]] = [:]
        func add(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
            try tree.file(path, bytes, mode: mode, mtime: fixedTime + contents.count)
            contents[path] = bytes
        }
        try add("Dockerfile", Array("FROM busybox:local\nCOPY . /ctx/\n".utf8))
        try add("run.sh", Array("#!/bin/sh\necho hi\n".utf8), mode: 0o755)
        try add("secret.key", Array("k".utf8), mode: 0o600)
        try add("setuid-tool", Array("x".utf8), mode: 0o4755)
        try add("empty-file", [])
        var generator = SystemRandomNumberGenerator()
        try add("blob.bin", (0..<300_001).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try add("nested/deeper/file.txt", Array("deep\n".utf8))
        let longPath =
            String(repeating: "l", count: 60) + "/" + String(repeating: "m", count: 90) + "/"
            + String(repeating: "n", count: 150) + ".txt"
        try add(longPath, Array("long\n".utf8))
        try add("café/naïve-ünïcode.txt", Array("unicode\n".utf8))
        try tree.directory("empty-dir", mode: 0o700, mtime: fixedTime)
        try tree.symlink("link-to-run", to: "run.sh")
        try tree.symlink("dangling", to: "/nowhere/" + String(repeating: "t", count: 120))
        for directory in ["nested/deeper", "nested", "café"] { try tree.setModificationTime(directory, fixedTime - 1) }
        return contents
    }

    static func streamAll(_ archive: BuildContextArchive, bufferSize: Int) throws -> [UInt8] {
        let stream = TarStream(entries: archive.entries)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        while true {
            let count = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
            if count == 0 { return out }
            out += buffer[..<count]
        }
    }

    @Test func roundTripsThroughGNUTar() async throws {
        let source = TemporaryDirectory(prefix: "dkctx")
        let tree = FileTree(source.path)
        let contents = try Self.makeRichContext(tree)
        let archive = try BuildContextArchive.plan(for: BuildContext(directory: source.path), currentTime: 0)
        #expect(archive.dockerfileName == "Dockerfile")

        // The producer may be asked for any amount at a time: every buffer size gives the same bytes.
        let bytes = try Self.streamAll(archive, bufferSize: 65536)
        #expect(Int64(bytes.count) == archive.contentLength)
        #expect(bytes.count % 512 == 0)
        for size in [1, 7, 511, 512, 513, 4096] {
            #expect(try Self.streamAll(archive, bufferSize: size) == bytes, "buffer size \(size)")
        }

        let work = TemporaryDirectory(prefix: "dktar")
        let tarPath = work.path + "/context.tar"
        try Data(bytes).write(to: URL(fileURLWithPath: tarPath))

        // Listing: every entry root-owned, modes and link targets as on disk.
        let listing = try await run("tar", ["--numeric-owner", "-tvf", tarPath])
        let lines = listing.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.contains(" 0/0 ") }, "\(listing)")
        #expect(lines.contains { $0.hasPrefix("-rwxr-xr-x") && $0.hasSuffix(" run.sh") })
        #expect(lines.contains { $0.hasPrefix("-rw-------") && $0.hasSuffix(" secret.key") })
        #expect(lines.contains { $0.hasPrefix("-rwsr-xr-x") && $0.hasSuffix(" setuid-tool") })
        #expect(lines.contains { $0.hasPrefix("drwx------") && $0.hasSuffix(" empty-dir/") })
        #expect(lines.contains { $0.hasPrefix("lrwxrwxrwx") && $0.hasSuffix(" link-to-run -> run.sh") })
        #expect(lines.contains { $0.hasSuffix(" dangling -> /nowhere/" + String(repeating: "t", count: 120)) })

        // Extraction: same bytes, modes, times and links as the source.
        let extracted = work.path + "/out"
        try FileManager.default.createDirectory(atPath: extracted, withIntermediateDirectories: true)
        _ = try await run("tar", ["-xpf", tarPath, "-C", extracted])
        for (path, expected) in contents {
            let copy = try Data(contentsOf: URL(fileURLWithPath: extracted + "/" + path))
            #expect(Array(copy) == expected, "\(path)")
            let original = try linkInfo(source.path + "/" + path)
            let restored = try linkInfo(extracted + "/" + path)
            #expect(restored.mode == original.mode, "\(path) mode")
            #expect(restored.mtime == original.mtime, "\(path) mtime")
        }
        for directory in ["empty-dir", "nested", "nested/deeper", "café"] {
            let restored = try linkInfo(extracted + "/" + directory)
            let original = try linkInfo(source.path + "/" + directory)
            #expect(restored.isDirectory && restored.mode == original.mode && restored.mtime == original.mtime, "\(directory)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: extracted + "/empty-dir").isEmpty)
        #expect(try linkInfo(extracted + "/link-to-run").isSymlink)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: extracted + "/link-to-run") == "run.sh")
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: extracted + "/dangling")
                == "/nowhere/" + String(repeating: "t", count: 120))
    }

    /// Sizes past 2 GiB and 8 GiB, without writing gigabytes: the archive is a sparse file and tar lists it
    /// by seeking over the contents.
    @Test(arguments: [Int64(3) << 30, (Int64(9) << 30) + 12345])
    func largeSizesEncodeForGNUTar(size: Int64) async throws {
        let work = TemporaryDirectory(prefix: "dkbig")
        let tarPath = work.path + "/big.tar"
        let header = TarHeader(name: "big.bin", kind: .regular, mode: 0o644, size: size, modificationTime: Int64(Self.fixedTime))
        let encoded = header.encode()
        try Data(encoded).write(to: URL(fileURLWithPath: tarPath))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tarPath))
        try handle.truncate(atOffset: UInt64(Int64(encoded.count) + TarHeader.paddedSize(size) + 1024))
        try handle.close()
        let listing = try await run("tar", ["--numeric-owner", "-tvf", tarPath])
        #expect(listing.contains(" \(size) "), "\(listing)")
        #expect(listing.contains("big.bin"))
        if size > TarHeader.maxOctal11 {
            // Too big for 11 octal digits: a PAX size record (and base-256 in the ustar field).
            #expect(encoded.count == 3 * 512)
            #expect(encoded[1024 + 124] & 0x80 != 0)
        } else {
            #expect(encoded.count == 512)
        }
    }

    @Test func paxRecordLengthCountsItsOwnDigits() {
        for valueLength in [0, 1, 85, 86, 87, 90, 95, 96, 990, 991, 992, 995, 9990] {
            let record = TarHeader.paxRecord(key: "path", value: String(repeating: "a", count: valueLength))
            let text = String(decoding: record, as: UTF8.self)
            let declared = Int(text.prefix { $0 != " " })
            #expect(declared == record.count, "value length \(valueLength)")
            #expect(text.hasSuffix("\n"))
        }
    }

    @Test func dockerignoreShapesTheArchive() throws {
        let source = TemporaryDirectory(prefix: "dkign")
        let tree = FileTree(source.path)
        try tree.file("Dockerfile", "FROM busybox:local\n")
        try tree.file(".dockerignore", "secret.txt\nlogs\n!logs/keep.log\nDockerfile\n.dockerignore\nnode_modules\n**/*.tmp\n")
        try tree.file("secret.txt", "s")
        try tree.file("app.txt", "a")
        try tree.file("logs/keep.log", "k")
        try tree.file("logs/drop.log", "d")
        try tree.file("node_modules/x/index.js", "x")
        try tree.file("src/a.tmp", "t")
        try tree.file("src/main.c", "m")
        let archive = try BuildContextArchive.plan(for: BuildContext(directory: source.path), currentTime: 0)
        let names = archive.entries.map(\.header.name)
        // Dockerfile and .dockerignore are sent although listed; logs/ itself is not, its kept file is.
        #expect(names == [".dockerignore", "Dockerfile", "app.txt", "logs/keep.log", "src/", "src/main.c"])
    }

    @Test func dockerfileOutsideTheContextTravelsUnderAGeneratedName() throws {
        let source = TemporaryDirectory(prefix: "dkout")
        let elsewhere = TemporaryDirectory(prefix: "dkdf")
        try FileTree(source.path).file("app.txt", "a")
        let dockerfile = try FileTree(elsewhere.path).file("Build.dockerfile", "FROM busybox:local\nCOPY . /ctx/\n")
        let archive = try BuildContextArchive.plan(
            for: BuildContext(directory: source.path, dockerfile: dockerfile),
            currentTime: 1234, randomName: { ".dockerfile.0123456789abcdef0123" })
        #expect(archive.dockerfileName == ".dockerfile.0123456789abcdef0123")
        let names = archive.entries.map(\.header.name)
        #expect(names == ["app.txt", ".dockerignore", ".dockerfile.0123456789abcdef0123"])
        #expect(archive.entries[2].content == .inline(Array("FROM busybox:local\nCOPY . /ctx/\n".utf8)))
        // The generated .dockerignore makes the daemon drop both generated files from what COPY sees.
        guard case .inline(let ignoreBytes) = archive.entries[1].content else { Issue.record("not generated"); return }
        let ignore = try DockerIgnore(fileContents: String(decoding: ignoreBytes, as: UTF8.self))
        #expect(ignore.excludes(".dockerfile.0123456789abcdef0123"))
        #expect(ignore.excludes(".dockerignore"))
        #expect(!ignore.excludes("app.txt"))
        #expect(archive.entries[1].header.size == Int64(ignoreBytes.count))
    }

    @Test func anExistingDockerignoreIsExtendedForAnOutsideDockerfile() throws {
        let source = TemporaryDirectory(prefix: "dkext")
        let elsewhere = TemporaryDirectory(prefix: "dkdf")
        try FileTree(source.path).file(".dockerignore", "*.log")
        try FileTree(source.path).file("a.log", "l")
        let dockerfile = try FileTree(elsewhere.path).file("Dockerfile", "FROM busybox:local\n")
        let archive = try BuildContextArchive.plan(
            for: BuildContext(directory: source.path, dockerfile: dockerfile),
            currentTime: 0, randomName: { ".dockerfile.x" })
        #expect(archive.entries.map(\.header.name) == [".dockerignore", ".dockerfile.x"])
        #expect(archive.entries[0].content == .inline(Array("*.log\n.dockerfile.x\n".utf8)))
    }

    @Test func dockerfileInsideTheContextIsNamedRelativeToIt() throws {
        let source = TemporaryDirectory(prefix: "dkin")
        let tree = FileTree(source.path)
        let dockerfile = try tree.file("build/Dockerfile.dev", "FROM busybox:local\n")
        let archive = try BuildContextArchive.plan(for: BuildContext(directory: source.path, dockerfile: dockerfile), currentTime: 0)
        #expect(archive.dockerfileName == "build/Dockerfile.dev")

        let lowercase = TemporaryDirectory(prefix: "dklc")
        try FileTree(lowercase.path).file("dockerfile", "FROM busybox:local\n")
        #expect(try BuildContextArchive.plan(for: BuildContext(directory: lowercase.path), currentTime: 0).dockerfileName == "dockerfile")
    }

    @Test func missingContextOrDockerfileIsReported() throws {
        let empty = TemporaryDirectory(prefix: "dkmiss")
        #expect(throws: DockerError.contextMissing(path: empty.path + "/nope")) {
            try BuildContextArchive.plan(for: BuildContext(directory: empty.path + "/nope"), currentTime: 0)
        }
        #expect(throws: DockerError.dockerfileMissing(path: empty.path + "/Dockerfile")) {
            try BuildContextArchive.plan(for: BuildContext(directory: empty.path), currentTime: 0)
        }
        #expect(throws: DockerError.dockerfileMissing(path: empty.path + "/Other")) {
            try BuildContextArchive.plan(for: BuildContext(directory: empty.path, dockerfile: empty.path + "/Other"), currentTime: 0)
        }
        let file = try FileTree(empty.path).file("plain", "x")
        #expect(throws: DockerError.contextMissing(path: file)) {
            try BuildContextArchive.plan(for: BuildContext(directory: file), currentTime: 0)
        }
        #expect(DockerError.dockerfileMissing(path: "/x/Dockerfile").description.contains("does not exist"))
    }

    @Test func aFileThatShrinksWhileStreamingIsAnError() throws {
        let source = TemporaryDirectory(prefix: "dkshr")
        let tree = FileTree(source.path)
        try tree.file("Dockerfile", "FROM busybox:local\n")
        let path = try tree.file("data", [UInt8](repeating: 7, count: 10_000))
        let archive = try BuildContextArchive.plan(for: BuildContext(directory: source.path), currentTime: 0)
        try tree.file("data", [UInt8](repeating: 7, count: 10))
        #expect(throws: DockerError.self) { _ = try Self.streamAll(archive, bufferSize: 4096) }
        _ = path
    }
}
