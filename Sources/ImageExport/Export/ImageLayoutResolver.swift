import Hashing

/// Once the whole archive has been read: finds the image (through `manifest.json`, else the OCI
/// `index.json`), checks every layer against the config's diff_ids and builds the `ExportedImage`.
struct ImageLayoutResolver {

    /// What a layout's index says the image is made of.
    struct ImageReferences {
        let configPath: String
        let layers: [(path: String, mediaType: String?)]
        let repoTags: [String]
        let layout: ArchiveLayout
    }

    let store: ArchiveEntryStore
    let reference: String?
    let platform: ImagePlatform
    let metadataLimit: Int

    func resolve() throws -> ExportedImage {
        let references: ImageReferences
        if store.resolve("manifest.json") != nil {
            references = try dockerManifestReferences()
        } else if store.resolve("index.json") != nil {
            references = try ociIndexReferences()
        } else {
            throw ImageExportError.unknownLayout(entries: store.order)
        }

        let config = try bytes(at: references.configPath, role: "config")
        let configDigest = SHA256.hash(config)
        try verifyClaim(of: store.resolve(references.configPath)?.path ?? references.configPath, actual: configDigest)
        let diffIDs = try MetadataDecoding.decode(ImageConfigRootFS.self, from: config, path: references.configPath).rootfs.diffIDs
        guard diffIDs.count == references.layers.count else {
            throw ImageExportError.layerCountMismatch(manifestLayers: references.layers.count, configDiffIDs: diffIDs.count)
        }

        var layers: [ExportedLayer] = []
        for (index, reference) in references.layers.enumerated() {
            let blob = try layerBlob(index: index, path: reference.path, mediaType: reference.mediaType)
            let actual = blob.uncompressedDigest.ociDigest
            guard actual == diffIDs[index] else {
                throw ImageExportError.diffIDMismatch(layerIndex: index, path: reference.path, expected: diffIDs[index], actual: actual)
            }
            layers.append(
                ExportedLayer(
                    digest: blob.compressedDigest.ociDigest, size: blob.compressedSize, diffID: actual,
                    uncompressedSize: blob.uncompressedSize, mediaType: blob.compression.layerMediaType, path: blob.path))
        }
        store.removeBlobs(except: Set(layers.map(\.path)))
        return ExportedImage(
            config: config, configDigest: configDigest.ociDigest, layers: layers, repoTags: references.repoTags,
            layout: references.layout, scratch: store.scratch)
    }

    // MARK: - Layouts

    /// `manifest.json`: `[{"Config": ..., "RepoTags": [...], "Layers": [...]}]`, paths relative to the root.
    private func dockerManifestReferences() throws -> ImageReferences {
        let path = "manifest.json"
        let images = try MetadataDecoding.decode([DockerSaveManifestEntry].self, from: bytes(at: path, role: "manifest"), path: path)
        guard !images.isEmpty else { throw ImageExportError.invalidMetadata(path: path, reason: "it lists no images") }
        let image: DockerSaveManifestEntry
        if images.count == 1 {
            image = images[0]
        } else if let reference {
            guard let match = images.first(where: { ($0.repoTags ?? []).contains { ImageReferenceName.matches($0, reference) } }) else {
                throw ImageExportError.imageNotFound(reference: reference, available: images.flatMap { $0.repoTags ?? [] })
            }
            image = match
        } else {
            throw ImageExportError.ambiguousImage(candidates: images.map { ($0.repoTags ?? []).first ?? $0.config })
        }
        return ImageReferences(
            configPath: ArchivePath.normalize(image.config),
            layers: image.layers.map { (ArchivePath.normalize($0), nil) },
            repoTags: image.repoTags ?? [], layout: .dockerManifest)
    }

    /// OCI image layout: `index.json` → (image index →)* image manifest → config and layer blobs.
    private func ociIndexReferences() throws -> ImageReferences {
        let path = "index.json"
        let index = try MetadataDecoding.decode(OCIManifestOrIndex.self, from: bytes(at: path, role: "index"), path: path)
        var candidates = (index.manifests ?? []).filter { !$0.isAttestation }
        guard !candidates.isEmpty else { throw ImageExportError.invalidMetadata(path: path, reason: "it lists no manifests") }
        if candidates.count > 1, let reference {
            candidates = candidates.filter { $0.names.contains { ImageReferenceName.matches($0, reference) } }
            guard !candidates.isEmpty else {
                throw ImageExportError.imageNotFound(reference: reference, available: (index.manifests ?? []).flatMap(\.names))
            }
        }
        let chosen: OCIDescriptor
        if candidates.count == 1 {
            chosen = candidates[0]
        } else if candidates.allSatisfy({ $0.platform != nil }) {
            chosen = try choosePlatform(candidates, indexPath: path)
        } else {
            throw ImageExportError.ambiguousImage(candidates: candidates.map { $0.names.first ?? $0.digest })
        }
        let manifest = try imageManifest(for: chosen, depth: 0)
        guard let config = manifest.config, let layers = manifest.layers else {
            throw ImageExportError.invalidMetadata(path: try blobPath(chosen.digest), reason: "an image manifest needs config and layers")
        }
        return ImageReferences(
            configPath: try blobPath(config.digest),
            layers: try layers.map { (try blobPath($0.digest), $0.mediaType) },
            repoTags: chosen.names, layout: .ociIndex)
    }

    /// Follows nested indexes (an image index per image, as Docker 25+ and BuildKit write them) to a manifest.
    private func imageManifest(for descriptor: OCIDescriptor, depth: Int) throws -> OCIManifestOrIndex {
        let path = try blobPath(descriptor.digest)
        let content = try bytes(at: path, role: "manifest \(descriptor.digest)")
        try verifyClaim(of: store.resolve(path)?.path ?? path, actual: SHA256.hash(content))
        let decoded = try MetadataDecoding.decode(OCIManifestOrIndex.self, from: content, path: path)
        guard let manifests = decoded.manifests, decoded.config == nil else { return decoded }
        guard depth < 4 else { throw ImageExportError.invalidMetadata(path: path, reason: "image indexes are nested too deeply") }
        let candidates = manifests.filter { !$0.isAttestation }
        guard !candidates.isEmpty else { throw ImageExportError.invalidMetadata(path: path, reason: "it lists no image manifests") }
        let chosen = candidates.count == 1 ? candidates[0] : try choosePlatform(candidates, indexPath: path)
        return try imageManifest(for: chosen, depth: depth + 1)
    }

    private func choosePlatform(_ candidates: [OCIDescriptor], indexPath: String) throws -> OCIDescriptor {
        // Compared as containerd does (aarch64 is arm64, arm means arm/v7); the asked-for variant preferred when given.
        let wanted = platform.normalized
        let matching = candidates.filter {
            guard let candidate = $0.platform?.imagePlatform.normalized else { return false }
            return candidate.os == wanted.os && candidate.architecture == wanted.architecture
        }
        if wanted.variant != nil, let exact = matching.first(where: { $0.platform?.imagePlatform.normalized.variant == wanted.variant }) {
            return exact
        }
        guard let first = matching.first else {
            throw ImageExportError.noMatchingPlatform(
                platform: platform.description, available: candidates.map { $0.platform?.imagePlatform.description ?? "unknown" })
        }
        return first
    }

    // MARK: - Entries

    private func layerBlob(index: Int, path: String, mediaType: String?) throws -> StoredBlob {
        if let mediaType, let format = ["zstd", "bzip2", "xz"].first(where: { mediaType.contains($0) }) {
            throw ImageExportError.unsupportedLayerFormat(layerIndex: index, path: path, detail: "its media type \(mediaType) is \(format)")
        }
        guard let (resolvedPath, entry) = store.resolve(path) else {
            throw ImageExportError.missingEntry(path: path, role: "layer \(index)")
        }
        let blob: StoredBlob
        switch entry {
        case .blob(let stored):
            blob = stored
        case .memory(let content):
            // Small layers (an empty layer is 1 KiB of zeros) were kept in memory: compress them now.
            if let format = content.withUnsafeBytes({ ArchiveEntryStore.unsupportedCompression($0) }) {
                throw ImageExportError.unsupportedLayerFormat(layerIndex: index, path: path, detail: "it is \(format)-compressed")
            }
            blob = try store.storeAsBlob(content)
            store.record(resolvedPath, .blob(blob))
        case .link:
            throw ImageExportError.missingEntry(path: path, role: "layer \(index) (a link loop)")
        }
        if let reason = blob.unusableReason {
            throw ImageExportError.unsupportedLayerFormat(layerIndex: index, path: path, detail: reason)
        }
        try verifyClaim(of: resolvedPath, actual: blob.archiveDigest)
        return blob
    }

    /// A metadata entry's bytes (kept in memory, or read back from disk if it was big enough to be streamed).
    private func bytes(at path: String, role: String) throws -> [UInt8] {
        guard let (_, entry) = store.resolve(path) else { throw ImageExportError.missingEntry(path: path, role: role) }
        switch entry {
        case .memory(let content):
            return content
        case .blob(let blob):
            guard !blob.path.isEmpty else {
                throw ImageExportError.invalidMetadata(path: path, reason: blob.unusableReason ?? "it was not kept")
            }
            guard blob.uncompressedSize <= Int64(metadataLimit) else {
                throw ImageExportError.entryTooLarge(path: path, size: blob.uncompressedSize, limit: Int64(metadataLimit))
            }
            let file = try BlobFile.readAll(path: blob.path, limit: metadataLimit)
            // Streamed uncompressed entries were gzipped on the way to disk; gzip entries were kept as they were.
            return blob.sourceFormat == .uncompressed ? try GzipDecompressor.decompress(file) : file
        case .link:
            throw ImageExportError.missingEntry(path: path, role: role)
        }
    }

    private func blobPath(_ digest: String) throws -> String {
        guard let path = ArchivePath.blobPath(forDigest: digest) else {
            throw ImageExportError.invalidMetadata(path: "index.json", reason: "\"\(digest)\" is not a valid digest")
        }
        return path
    }

    private func verifyClaim(of path: String, actual: SHA256Digest) throws {
        guard let claimed = ArchivePath.claimedDigest(of: path), claimed != actual.ociDigest else { return }
        throw ImageExportError.blobDigestMismatch(path: path, expected: claimed, actual: actual.ociDigest)
    }
}
