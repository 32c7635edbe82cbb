import AWSCore
import ECR
import Foundation
import ImageExport
import RegistryClient

/// A repository reached through ECR's own API, signed with SigV4 (the `ecr-api` transport): BatchCheckLayerAvailability,
/// Initiate/UploadLayerPart/CompleteLayerUpload, PutImage. No registry password exists and ECR's API has no mount, so
/// a base's layers from another repository or registry are copied part by part (`ECRBlobStore+Copy.swift`).
struct ECRBlobStore: BlobStore {
    let ecr: ECRClient
    let repository: String
    let registryId: String?
    /// The registry host, for messages.
    let registry: String
    /// Fresh upload sessions tried for a layer after a failure that is not a resumable part rejection.
    var uploadAttempts = 3
    /// Uploads initiated ahead for the relay (`prepareUpload`).
    let uploadsAhead = ECRUploadsAhead()

    var place: String { RepositoryLocation(registry: registry, repository: repository).description }

    func existing(_ digests: [String]) async throws -> Set<String> {
        var found = Set<String>()
        // BatchCheckLayerAvailability takes at most 100 digests.
        for start in stride(from: 0, to: digests.count, by: 100) {
            let batch = Array(digests[start..<min(start + 100, digests.count)])
            let available = try await ecr.batchCheckLayerAvailability(repository: repository, digests: batch, registryId: registryId)
            found.formUnion(batch.filter { available[$0] == true })
        }
        return found
    }

    func size(of digest: String) async throws -> Int64? {
        try await ecr.layerSize(repository: repository, digest: digest, registryId: registryId)
    }

    func mount(_ digest: String, from source: String) async throws -> Bool { false }

    func upload(_ blob: PreparedBlob, progress: @escaping @Sendable (Int64) -> Void, onInfo: @escaping @Sendable (String) -> Void) async throws {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await uploadOnce(blob, progress: progress) { offset in onInfo(Self.resumeMessage(blob.shortID, from: offset)) }
                return
            } catch let error as AWSError where error.code == ECRErrorCode.layerAlreadyExists {
                return  // pushed meanwhile by someone else: what we wanted
            } catch let error as AWSError where Self.isRetryable(error) && attempt < uploadAttempts {
                continue  // a fresh upload session; never re-send from byte 0 on the old one
            }
        }
    }

    /// Where an upload goes on after ECR refused a part (InvalidLayerPart): the byte after the last one it kept,
    /// on the same upload. Any other error is thrown again.
    static func resumeOffset(after error: AWSError) throws -> Int64 {
        guard error.code == ECRErrorCode.invalidLayerPart, let text = error.serviceDetails?.fields["lastValidByteReceived"],
            let lastValid = Int64(text)
        else { throw error }
        return lastValid + 1
    }

    static func resumeMessage(_ id: String, from offset: Int64) -> String {
        "\(id): ECR kept the layer only up to byte \(offset - 1); resuming from byte \(offset)"
    }

    static func isRetryable(_ error: AWSError) -> Bool {
        switch error {
        case .endpointUnreachable: return true
        case .service(let details): return details.httpStatus >= 500 || details.code == ECRErrorCode.uploadNotFound
        default: return false
        }
    }

    private func uploadOnce(_ blob: PreparedBlob, progress: @Sendable (Int64) -> Void, onResume: @Sendable (Int64) -> Void) async throws {
        let upload: ECRClient.LayerUpload
        if let ahead = await uploadsAhead.take() {
            upload = ahead
        } else {
            upload = try await ecr.initiateLayerUpload(repository: repository, registryId: registryId)
        }
        let plan = LayerPartPlan(blobSize: blob.size, suggested: upload.partSize)
        let reader = try Self.partSource(blob.source)
        var next: Int64 = 0
        var resumes = 0
        while next < blob.size {
            let range = plan.parts(from: next)[0]
            do {
                let last = try await ecr.uploadLayerPart(
                    repository: repository, uploadId: upload.uploadId, range: range, source: reader, registryId: registryId)
                next = last + 1
                progress(next)
            } catch let error as AWSError where resumes < 3 {
                next = try Self.resumeOffset(after: error)
                resumes += 1
                progress(next)
                onResume(next)
            }
        }
        _ = try await ecr.completeLayerUpload(repository: repository, uploadId: upload.uploadId, digest: blob.digest, registryId: registryId)
    }

    var uploadsGrowingLayers: Bool { true }

    /// A layer sent while it is compressed: one upload session whose parts go up as the file reaches each part's
    /// end (the last part once the file is complete), then CompleteLayerUpload with the digest known at the end.
    /// Any failure returns false, and the finished file is uploaded the usual way (with its retries and resumes).
    func uploadGrowing(
        _ layer: GrowingLayer, progress: @escaping @Sendable (Int64) -> Void, onInfo: @escaping @Sendable (String) -> Void
    ) async -> Bool {
        do {
            // Opened first: the descriptor keeps reading the same file whatever the export does with its path.
            let reader = try FilePartSource(path: layer.path)
            let upload = try await ecr.initiateLayerUpload(repository: repository, registryId: registryId)
            let partSize = LayerPartPlan(blobSize: 0, suggested: upload.partSize).partSize
            var next: Int64 = 0
            var resumes = 0
            while true {
                let written = try await layer.written(atLeast: next + partSize)
                let completion = layer.completion
                if written > next, completion != nil || written >= next + partSize {
                    let end = min(written, next + partSize)
                    do {
                        _ = try await ecr.uploadLayerPart(
                            repository: repository, uploadId: upload.uploadId, range: next...(end - 1), source: reader, registryId: registryId)
                        next = end
                    } catch let error as AWSError where resumes < 3 {
                        next = try Self.resumeOffset(after: error)
                        resumes += 1
                        onInfo(Self.resumeMessage(layer.shortID, from: next))
                    }
                    progress(next)
                }
                if let completion, next >= completion.size {
                    _ = try await ecr.completeLayerUpload(
                        repository: repository, uploadId: upload.uploadId, digest: completion.digest, registryId: registryId)
                    return true
                }
            }
        } catch let error as AWSError where error.code == ECRErrorCode.layerAlreadyExists {
            return true  // the same layer, pushed meanwhile by someone else
        } catch {
            if !Task.isCancelled { onInfo("Layer \(layer.shortID) could not be sent while it was compressed (\(error)); sending it once compressed") }
            progress(0)
            return false
        }
    }

    func putManifest(_ manifest: ImageManifest, tag: String) async throws {
        do {
            _ = try await ecr.putImage(
                repository: repository, manifest: String(decoding: manifest.bytes, as: UTF8.self), mediaType: manifest.mediaType,
                tag: tag, digest: manifest.digest, registryId: registryId)
        } catch let error as AWSError
            where [ECRErrorCode.imageAlreadyExists, ECRErrorCode.imageTagAlreadyExists].contains(error.code ?? "")
        {
            // Success only if the tag already names exactly this manifest (a re-push); an immutable tag that
            // names another image is the user's problem to hear about, whichever of the two codes ECR chose.
            let existing = try await ecr.digest(forTag: tag, repository: repository, registryId: registryId)
            if existing == manifest.digest { return }
            throw ECRPushError.imageTagExists(repository: repository, tag: tag, detail: "it points at \(existing ?? "another image")")
        } catch let error as AWSError where error.code == ECRErrorCode.layersNotFound || error.code == ECRErrorCode.imageDigestDoesNotMatch {
            throw ECRPushError.internalInconsistency(
                "ECR rejected the manifest ecrpush built (\(error)). This is a bug in ecrpush: please report it with the output of --debug.")
        }
    }

    static func partSource(_ source: PreparedBlob.Source) throws -> any LayerPartSource {
        switch source {
        case .bytes(let bytes): return BytesPartSource(bytes: bytes)
        case .file(let path): return try FilePartSource(path: path)
        }
    }
}

/// A prepared layer file, read with pread so parts can be read from any thread without a shared position.
final class FilePartSource: LayerPartSource {
    private let descriptor: Int32
    let path: String

    init(path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        self.path = path
        guard descriptor >= 0 else {
            throw ECRPushError.invalidArgument("cannot read the prepared layer \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if count >= 0 { return count }
            if errno != EINTR {
                throw ECRPushError.invalidArgument("cannot read the prepared layer \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}

/// Bytes in memory, read by offset within the whole layer: a small blob (the image config, from byte 0), or one
/// part of a copied layer (from the part's first byte).
struct BytesPartSource: LayerPartSource {
    let bytes: [UInt8]
    var firstByte: Int64 = 0

    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let start = offset - firstByte
        guard start >= 0, start < Int64(bytes.count) else { return 0 }
        let count = min(buffer.count, bytes.count - Int(start))
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!.advanced(by: Int(start)), byteCount: count) }
        return count
    }
}
