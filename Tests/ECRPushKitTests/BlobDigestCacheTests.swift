import Foundation
import TestWorld
import Testing

@testable import ECRPushKit

/// The pushed-blob memory: answers only when every layer is known, per registry, in private files that
/// concurrent pushes update without losing each other's entries.
@Suite struct BlobDigestCacheTests {
    typealias Blob = BlobDigestCache.Blob

    static func blob(_ n: Int) -> Blob { Blob(digest: "sha256:" + String(repeating: String(n % 10), count: 64), size: Int64(n * 100)) }

    /// The blob cache holds nothing secret: a rewrite keeps the mode its file had (new files are 0600).
    @Test func keepsTheModeItsFileHad() throws {
        let directory = TemporaryDirectory()
        let blobs = BlobDigestCache(directory: directory.path + "/blobs")
        try blobs.record(
            imageID: "sha256:img", config: Self.blob(9), layers: [("sha256:a", Self.blob(1))],
            registry: "r.example", repository: "app")
        let entry = blobs.path(registry: "r.example")
        #expect(try FileManager.default.attributesOfItem(atPath: entry)[.posixPermissions] as? Int == 0o600)
        chmod(entry, 0o640)
        try blobs.record(
            imageID: "sha256:img2", config: Self.blob(8), layers: [("sha256:b", Self.blob(2))],
            registry: "r.example", repository: "app")
        #expect(try FileManager.default.attributesOfItem(atPath: entry)[.posixPermissions] as? Int == 0o640)
        #expect(blobs.lookup(imageID: "sha256:img", diffIDs: ["sha256:a"], registry: "r.example") != nil, "the first record survived")
    }

    @Test func answersOnlyForAFullyKnownImageInTheSameRegistry() throws {
        let directory = TemporaryDirectory()
        let cache = BlobDigestCache(directory: directory.path + "/ecrpush/blobs")
        #expect(cache.lookup(imageID: "sha256:img", diffIDs: ["sha256:a"], registry: "r.example") == nil, "nothing yet")
        try cache.record(
            imageID: "sha256:img", config: Self.blob(9),
            layers: [("sha256:a", Self.blob(1)), ("sha256:b", Self.blob(2))], registry: "R.example",
            repository: "team/app")
        let known = try #require(cache.lookup(imageID: "sha256:img", diffIDs: ["sha256:a", "sha256:b", "sha256:a"], registry: "r.example"))
        #expect(known.config == Self.blob(9))
        #expect(known.layers == [Self.blob(1), Self.blob(2), Self.blob(1)], "in the image's order, repeats included")
        #expect(
            known.repositories == [Self.blob(1).digest: "team/app", Self.blob(2).digest: "team/app", Self.blob(9).digest: "team/app"],
            "where each blob can be mounted from")
        #expect(cache.lookup(imageID: "sha256:img", diffIDs: ["sha256:a", "sha256:c"], registry: "r.example") == nil)
        #expect(cache.lookup(imageID: "sha256:other", diffIDs: ["sha256:a"], registry: "r.example") == nil)
        #expect(cache.lookup(imageID: "sha256:img", diffIDs: ["sha256:a"], registry: "other.example") == nil)
        #expect(cache.lookup(imageID: "sha256:img", diffIDs: ["sha256:a"], registry: "r.example zstd") == nil)

        try cache.forget(blobs: [Self.blob(2).digest], registry: "r.example")
        #expect(cache.lookup(imageID: "sha256:img", diffIDs: ["sha256:b"], registry: "r.example") == nil)
        #expect(cache.lookup(imageID: "sha256:img", diffIDs: ["sha256:a"], registry: "r.example") != nil)

        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path + "/ecrpush/blobs")
        #expect(attributes[.posixPermissions] as? Int == 0o700)
        #expect(try FileManager.default.attributesOfItem(atPath: directory.path + "/ecrpush")[.posixPermissions] as? Int == 0o700)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/ecrpush/blobs")
        for name in files {
            #expect(try FileManager.default.attributesOfItem(atPath: directory.path + "/ecrpush/blobs/" + name)[.posixPermissions] as? Int == 0o600)
        }
        #expect(!files.contains { $0.contains("example") }, "file names do not show the registry")
        #expect(try cache.clear() == 1)
        #expect(cache.lookup(imageID: "sha256:img", diffIDs: ["sha256:a"], registry: "r.example") == nil)
    }

    @Test func concurrentRecordsAreAllKept() throws {
        let directory = TemporaryDirectory()
        let cache = BlobDigestCache(directory: directory.path + "/blobs")
        DispatchQueue.concurrentPerform(iterations: 16) { n in
            try? cache.record(
                imageID: "sha256:img\(n)", config: Self.blob(n),
                layers: [("sha256:layer\(n)", Self.blob(n))], registry: "r.example", repository: "r\(n)")
        }
        for n in 0..<16 {
            #expect(cache.lookup(imageID: "sha256:img\(n)", diffIDs: ["sha256:layer\(n)"], registry: "r.example") != nil)
        }
    }

    @Test func anUnusableDirectoryIsAClearError() {
        let cache = BlobDigestCache(directory: "/etc/hostname/blobs")
        #expect {
            try cache.record(imageID: "sha256:img", config: Self.blob(1), layers: [], registry: "r.example", repository: "r")
        } throws: { error in
            "\(error)".contains("blob cache") && "\(error)".contains("ECRPUSH_NO_CACHE=1")
        }
    }
}
