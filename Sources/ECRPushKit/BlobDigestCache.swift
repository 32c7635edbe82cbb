import ECRLogin
import Foundation
import Hashing
import ImageExport

#if canImport(Glibc)
import Glibc
#endif

/// What ecrpush has pushed to a registry before, as dockerd and containers/image remember it: for each
/// uncompressed layer (diffID) the compressed blob that carries it there, and for each image ID its config
/// blob. A re-push of an unchanged image then checks that those blobs still exist and puts the manifest,
/// without reading the image from the Engine or compressing anything.
///
/// The cache only ever suggests: every blob it names is checked in the destination repository first, and a
/// blob the registry lacks sends the push down the ordinary path (which then records the new answers).
///
/// One file per registry under `<cache>/blobs` (0700 directory, 0600 files, replaced atomically under a
/// `flock`, so concurrent pushes never lose each other's entries or see half a file).
package struct BlobDigestCache: Sendable {
    package struct Blob: Codable, Sendable, Equatable {
        package var digest: String
        package var size: Int64
        /// A layer's media type (gzip or zstd); absent for configs.
        package var mediaType: String?

        package init(digest: String, size: Int64, mediaType: String? = nil) {
            self.digest = digest
            self.size = size
            self.mediaType = mediaType
        }
    }

    struct Contents: Codable {
        var registry: String
        /// diffID → compressed blob.
        var layers: [String: Blob] = [:]
        /// image ID → config blob.
        var images: [String: Blob] = [:]
        /// blob digest → the repository it was last pushed to (where it can be mounted from).
        var repositories: [String: String] = [:]
    }

    /// What the cache knows of an image in one registry.
    package struct Known: Sendable, Equatable {
        package var config: Blob
        /// In the image's order (a repeated layer repeats).
        package var layers: [Blob]
        /// Where each blob was last pushed, by digest.
        package var repositories: [String: String]
    }

    package let directory: String
    /// Entries kept per registry (each kind); the oldest are dropped beyond it.
    package var limit = 20_000

    package init(directory: String) {
        self.directory = directory
    }

    /// `<token cache directory>/blobs`, or nil when `ECRPUSH_NO_CACHE` turns caching off.
    package static func fromEnvironment(_ environment: [String: String], homeDirectory: String) -> BlobDigestCache? {
        guard let tokens = TokenCache.fromEnvironment(environment, homeDirectory: homeDirectory) else { return nil }
        return BlobDigestCache(directory: tokens.directory + "/blobs")
    }

    /// The blobs that made up `imageID` (with these diffIDs, bottom first) the last time it went to `registry`,
    /// or nil when anything is unknown.
    package func lookup(imageID: String, diffIDs: [String], registry: String) -> Known? {
        guard let contents = read(registry: registry), let config = contents.images[imageID] else { return nil }
        var layers: [Blob] = []
        for diffID in diffIDs {
            guard let layer = contents.layers[diffID] else { return nil }
            layers.append(layer)
        }
        let digests = Set(layers.map(\.digest) + [config.digest])
        return Known(config: config, layers: layers, repositories: contents.repositories.filter { digests.contains($0.key) })
    }

    /// Whether any registry's file names `imageID`: when none does, no push of it can be answered from the cache,
    /// whatever registry the login names (asked before the login says which).
    package func mayRemember(imageID: String) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return false }
        let needle = Data("\"\(imageID)\"".utf8)
        return names.contains { name in
            name.hasSuffix(".json") && FileManager.default.contents(atPath: directory + "/" + name)?.range(of: needle) != nil
        }
    }

    /// The blobs the cache knows for any of `diffIDs` in `registry` (an image it does not know whole: a rebuilt top
    /// layer over layers pushed before), each with the repository it was last pushed to.
    package func layers(diffIDs: [String], registry: String) -> [String: (blob: Blob, repository: String?)] {
        guard let contents = read(registry: registry) else { return [:] }
        var found: [String: (blob: Blob, repository: String?)] = [:]
        for diffID in diffIDs {
            guard let blob = contents.layers[diffID] else { continue }
            found[diffID] = (blob, contents.repositories[blob.digest])
        }
        return found
    }

    /// Remembers an image's blobs, and that `repository` now holds them.
    package func record(
        imageID: String, config: Blob, layers: [(diffID: String, blob: Blob)], registry: String,
        repository: String
    ) throws {
        try update(registry: registry) { contents in
            contents.images[imageID] = config
            contents.repositories[config.digest] = repository
            for (diffID, blob) in layers {
                contents.layers[diffID] = blob
                contents.repositories[blob.digest] = repository
            }
        }
    }

    /// Forgets the answers for `registry` that named blobs the registry turned out not to have.
    package func forget(blobs digests: Set<String>, registry: String) throws {
        try update(registry: registry) { contents in
            contents.layers = contents.layers.filter { !digests.contains($0.value.digest) }
            contents.images = contents.images.filter { !digests.contains($0.value.digest) }
            contents.repositories = contents.repositories.filter { !digests.contains($0.key) }
        }
    }

    /// Removes every registry's file; returns how many there were.
    @discardableResult
    package func clear() throws -> Int {
        do {
            return try PrivateFile.clearCache(directory)
        } catch {
            throw failure(error.detail)
        }
    }

    // MARK: - Files

    func path(registry: String) -> String {
        directory + "/" + SHA256.hash(Array(registry.lowercased().utf8)).hex + ".json"
    }

    func read(registry: String) -> Contents? {
        guard let data = FileManager.default.contents(atPath: path(registry: registry)),
            let contents = try? JSONDecoder().decode(Contents.self, from: data),
            contents.registry == registry.lowercased()
        else { return nil }
        return contents
    }

    private func update(registry: String, _ change: (inout Contents) -> Void) throws {
        try prepareDirectory()
        let target = path(registry: registry)
        let lock = open(target.replacingOccurrences(of: ".json", with: ".lock"), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw failure("cannot open a lock file in \(directory): \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        guard flock(lock, LOCK_EX) == 0 else { throw failure("cannot lock a file in \(directory): \(String(cString: strerror(errno)))") }
        defer { flock(lock, LOCK_UN) }
        var contents = read(registry: registry) ?? Contents(registry: registry.lowercased())
        change(&contents)
        contents.layers = bounded(contents.layers)
        contents.images = bounded(contents.images)
        contents.repositories = bounded(contents.repositories)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try write(try encoder.encode(contents), to: target)
    }

    /// Beyond the limit, an arbitrary but stable subset (by sorted key) is kept rather than growing forever.
    private func bounded<Value>(_ entries: [String: Value]) -> [String: Value] {
        guard entries.count > limit else { return entries }
        return Dictionary(uniqueKeysWithValues: entries.sorted { $0.key < $1.key }.suffix(limit).map { ($0.key, $0.value) })
    }

    private func write(_ data: Data, to target: String) throws {
        do {
            try PrivateFile.writeAtomically(data, to: target, temporaryPrefix: ".tmp-", permissions: .keepExisting)
        } catch {
            throw failure(error.detail)
        }
    }

    private func prepareDirectory() throws {
        let parent = (directory as NSString).deletingLastPathComponent
        let parentExisted = FileManager.default.fileExists(atPath: parent)
        defer { if !parentExisted { chmod(parent, 0o700) } }
        do {
            try PrivateFile.prepareDirectory(directory)
        } catch {
            throw failure(error.detail)
        }
    }

    private func failure(_ what: String) -> ECRPushError {
        .invalidArgument("blob cache: \(what). Set ECRPUSH_NO_CACHE=1 to push without it, or fix the directory's permissions.")
    }
}
