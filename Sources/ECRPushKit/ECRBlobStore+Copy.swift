import AWSCore
import ECR
import Hashing
import RegistryClient

extension ECRBlobStore {
    /// Copies a base's layer from another registry as it is stored there (its digest kept, nothing recompressed),
    /// read part by part with `Range` requests.
    func copy(
        _ layer: KnownLayer, from source: RegistryClient, repository sourceRepository: String,
        progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool {
        try await copyInParts(layer, from: "\(source.registryName)/\(sourceRepository)", progress: progress) { range, isFirst in
            try await source.readBlobPart(repository: sourceRepository, digest: layer.digest, range: range, checked: !isFirst)
        }
    }

    /// Copies a base's layer from another repository of this registry, which ECR's API cannot mount: read from the
    /// layer's download URL (GetDownloadUrlForLayer on the base's repository), part by part. (`session`: none here,
    /// as nothing mounts.)
    func copyWithinRegistry(
        _ layer: KnownLayer, from sourceRepository: String, session: String?, progress: @escaping @Sendable (Int64) -> Void
    ) async throws -> Bool {
        let (ecr, registryId) = (self.ecr, self.registryId)
        let url = try await ecr.downloadURL(forLayer: layer.digest, repository: sourceRepository, registryId: registryId)
        return try await copyInParts(
            layer, from: RepositoryLocation(registry: registry, repository: sourceRepository).description, progress: progress
        ) {
            range, _ in try await ecr.readLayerPart(at: url, digest: layer.digest, range: range)
        }
    }

    /// One upload of ECR's parts (5-20 MiB, as InitiateLayerUpload suggests), each read with `read` while the part
    /// before goes up with UploadLayerPart: at most two parts are in memory whatever the layer's size. The bytes are
    /// hashed on the way and the last part goes up only if they match the digest, so a source that serves other
    /// bytes completes no layer.
    private func copyInParts(
        _ layer: KnownLayer, from place: String, progress: @escaping @Sendable (Int64) -> Void,
        read: @escaping @Sendable (_ range: ClosedRange<Int64>, _ isFirst: Bool) async throws -> [UInt8]
    ) async throws -> Bool {
        do {
            let upload = try await ecr.initiateLayerUpload(repository: repository, registryId: registryId)
            let parts = LayerPartPlan(blobSize: layer.size, suggested: upload.partSize).parts()
            var hasher = SHA256()
            var reading = parts.first.map { first in Task { try await Self.readRetrying(first, isFirst: true, read: read) } }
            defer { reading?.cancel() }
            for (index, range) in parts.enumerated() {
                guard let pending = reading else { break }
                // The read is a task of its own (it runs beside the upload): it hears of this one's cancellation.
                let bytes = try await withTaskCancellationHandler {
                    try await pending.value
                } onCancel: {
                    pending.cancel()
                }
                let isLast = index == parts.count - 1
                reading = isLast ? nil : Task { [next = parts[index + 1]] in try await Self.readRetrying(next, isFirst: false, read: read) }
                hasher.update(bytes)
                if isLast { try Self.check(hasher.currentDigest(), is: layer, from: place) }
                try await uploadPart(bytes, range: range, uploadId: upload.uploadId)
                progress(range.upperBound + 1)
            }
            if parts.isEmpty { try Self.check(hasher.currentDigest(), is: layer, from: place) }
            _ = try await ecr.completeLayerUpload(repository: repository, uploadId: upload.uploadId, digest: layer.digest, registryId: registryId)
            return true
        } catch let error as AWSError where error.code == ECRErrorCode.layerAlreadyExists {
            return true  // the same layer, pushed meanwhile by someone else
        }
    }

    /// One part from memory. A part ECR kept only in part (InvalidLayerPart) goes on from the byte after the last
    /// one it kept, as an upload from a file does (`ECRBlobStore.resumeOffset`), while that byte is in this part.
    private func uploadPart(_ bytes: [UInt8], range: ClosedRange<Int64>, uploadId: String) async throws {
        let source = BytesPartSource(bytes: bytes, firstByte: range.lowerBound)
        var next = range.lowerBound
        var resumes = 0
        while next <= range.upperBound {
            do {
                let last = try await ecr.uploadLayerPart(
                    repository: repository, uploadId: uploadId, range: next...range.upperBound, source: source, registryId: registryId)
                next = max(next, last + 1)
            } catch let error as AWSError where resumes < 3 {
                let resumed = try Self.resumeOffset(after: error)
                guard resumed >= range.lowerBound, resumed <= range.upperBound + 1 else { throw error }
                next = resumed
                resumes += 1
            }
        }
    }

    /// A part's read, made again after a transient failure (a dropped connection, a 5xx, a throttle): a hiccup
    /// costs that part's read, not the whole copy (whose layer would then be compressed from the image).
    private static func readRetrying(
        _ range: ClosedRange<Int64>, isFirst: Bool, attempts: Int = 3,
        read: @Sendable (_ range: ClosedRange<Int64>, _ isFirst: Bool) async throws -> [UInt8]
    ) async throws -> [UInt8] {
        var attempt = 1
        while true {
            do {
                return try await read(range, isFirst)
            } catch let error where attempt < attempts && isTransient(error) {
                try await Task.sleep(for: .milliseconds(250 * attempt))
                attempt += 1
            }
        }
    }

    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let error as RegistryError: return error.isRetryable
        case ECRError.layerReadFailed(_, _, _, let status, _): return status.map { $0 >= 500 || $0 == 429 } ?? true
        default: return false
        }
    }

    private static func check(_ digest: SHA256Digest, is layer: KnownLayer, from place: String) throws {
        guard digest.ociDigest == layer.digest else {
            throw ECRPushError.baseLayerMismatch(place: place, digest: layer.digest, size: layer.size, actual: digest.ociDigest)
        }
    }
}
