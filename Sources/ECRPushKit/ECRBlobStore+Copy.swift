import AWSCore
import ECR
import Hashing
import RegistryClient

extension ECRBlobStore {
    /// Copies a base's layer from another registry as it is stored there (its digest kept, nothing recompressed):
    /// each part is read with a `Range` request while the one before goes up with UploadLayerPart, so at most two
    /// parts (5-20 MiB each) are in memory whatever the layer's size. The bytes are hashed on the way and the last
    /// part goes up only if they match the digest: a source that serves other bytes completes no layer.
    func copy(
        _ layer: KnownLayer, from source: RegistryClient, repository sourceRepository: String,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool {
        do {
            let upload = try await ecr.initiateLayerUpload(repository: repository, registryId: registryId)
            let parts = LayerPartPlan(blobSize: layer.size, suggested: upload.partSize).parts()
            var hasher = SHA256()
            var reading = parts.first.map { Self.read($0, of: layer, from: source, repository: sourceRepository, checked: false) }
            defer { reading?.cancel() }
            for (index, range) in parts.enumerated() {
                guard let bytes = try await reading?.value else { break }
                let isLast = index == parts.count - 1
                reading = isLast ? nil : Self.read(parts[index + 1], of: layer, from: source, repository: sourceRepository, checked: true)
                hasher.update(bytes)
                if isLast { try Self.check(hasher.currentDigest(), is: layer, source: source, repository: sourceRepository) }
                _ = try await ecr.uploadLayerPart(
                    repository: repository, uploadId: upload.uploadId, range: range,
                    source: PartBytesSource(bytes: bytes, firstByte: range.lowerBound), registryId: registryId)
                progress(range.upperBound + 1)
            }
            if parts.isEmpty { try Self.check(hasher.currentDigest(), is: layer, source: source, repository: sourceRepository) }
            _ = try await ecr.completeLayerUpload(repository: repository, uploadId: upload.uploadId, digest: layer.digest, registryId: registryId)
            return true
        } catch let error as AWSError where error.code == ECRErrorCode.layerAlreadyExists {
            return true  // the same layer, pushed meanwhile by someone else
        }
    }

    /// A part's bytes, read ahead while the part before goes up.
    private static func read(
        _ range: ClosedRange<Int64>, of layer: KnownLayer, from source: RegistryClient, repository: String, checked: Bool
    ) -> Task<[UInt8], any Error> {
        Task { try await source.readBlobPart(repository: repository, digest: layer.digest, range: range, checked: checked) }
    }

    private static func check(_ digest: SHA256Digest, is layer: KnownLayer, source: RegistryClient, repository: String) throws {
        guard digest.ociDigest == layer.digest else {
            throw RegistryError.invalidResponse(
                operation: "reading blob \(layer.digest) from \(source.registryName)/\(repository)",
                detail: "its \(layer.size) bytes have digest \(digest.ociDigest)")
        }
    }
}

/// One part's bytes, held in memory, as UploadLayerPart reads them: by offset within the whole layer.
private struct PartBytesSource: LayerPartSource {
    let bytes: [UInt8]
    let firstByte: Int64

    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let start = Int(offset - firstByte)
        guard start >= 0, start < bytes.count else { return 0 }
        let count = min(buffer.count, bytes.count - start)
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!.advanced(by: start), byteCount: count) }
        return count
    }
}
