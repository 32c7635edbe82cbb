import AWSCore
import DockerEngine
import ECR
import Foundation
import Hashing
import ImageExport

/// Pushes an image from the Docker Engine straight to ECR through ECR's own API (BatchCheckLayerAvailability,
/// Initiate/UploadLayerPart/CompleteLayerUpload, PutImage), signed with SigV4: no registry password exists.
package struct ECRAPIPush: Sendable {
    package let ecr: ECRClient
    package let docker: DockerClient
    package var settings: ExportSettings
    /// Fresh upload sessions tried for a layer after a failure that is not a resumable part rejection.
    package var uploadAttempts = 3

    package init(ecr: ECRClient, docker: DockerClient, settings: ExportSettings = ExportSettings()) {
        self.ecr = ecr
        self.docker = docker
        self.settings = settings
    }

    package func push(
        localImage: String, destination: PushDestination, registry: String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage {
        do {
            return try await pushUnchecked(localImage: localImage, destination: destination, registry: registry, onEvent: onEvent)
        } catch let error as AWSError where ["AccessDeniedException", "AccessDenied"].contains(error.code ?? "") {
            // IAM or a repository policy refused one of the push actions: name it.
            let details = error.serviceDetails
            throw ECRPushError.pushDenied(
                repository: destination.repository, action: details?.action ?? "push",
                message: details?.message ?? "\(error)")
        }
    }

    private func pushUnchecked(
        localImage: String, destination: PushDestination, registry: String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> PushedImage {
        guard let inspected = try await docker.inspectImage(localImage) else { throw DockerError.imageNotFound(localImage) }
        if let remembered = RememberedImage(cache: settings.blobCache, image: inspected, registry: settings.cacheScope(registry)),
            try await ecrHolds(remembered, destination: destination, registry: registry, onEvent: onEvent)
        {
            try await putImages(remembered.manifest, destination: destination, onEvent: onEvent)
            return PushedImage(
                registry: registry, repository: destination.repository, tags: destination.tags,
                digest: remembered.manifest.digest)
        }
        onEvent(.info("Reading \(localImage) from the Docker Engine"))
        let repository = destination.repository
        let registryId = destination.registryId
        let ecr = self.ecr
        let image = try await EngineImageExport.exportAndUpload(localImage, docker: docker, settings: settings) { blob in
            let id = blob.shortID
            let available = try await ecr.batchCheckLayerAvailability(
                repository: repository, digests: [blob.digest],
                registryId: registryId)
            if available[blob.digest] == true {
                onEvent(
                    .push(
                        PushEvent(
                            id: id, status: .alreadyExists,
                            progress: ProgressDetail(current: blob.size, total: blob.size))))
                return
            }
            onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: 0, total: blob.size))))
            try await upload(
                blob.source, digest: blob.digest, size: blob.size, repository: repository,
                registryId: registryId,
                progress: { done in
                    onEvent(.push(PushEvent(id: id, status: .pushing, progress: ProgressDetail(current: done, total: blob.size))))
                },
                onResume: { offset in
                    onEvent(.info("\(id): ECR kept the layer only up to byte \(offset - 1); resuming from byte \(offset)"))
                })
            onEvent(.push(PushEvent(id: id, status: .pushed, progress: ProgressDetail(current: blob.size, total: blob.size))))
        }
        defer { image.cleanup() }

        let manifest = image.manifest()
        try await putImages(manifest, destination: destination, onEvent: onEvent)
        RememberedImage.remember(
            image, in: settings.blobCache, scope: settings.cacheScope(registry), repository: repository,
            onEvent: onEvent)
        return PushedImage(registry: registry, repository: repository, tags: destination.tags, digest: manifest.digest)
    }

    /// True when ECR still has every blob the cache remembers for the image (one BatchCheckLayerAvailability);
    /// otherwise the cache forgets the missing ones.
    private func ecrHolds(
        _ remembered: RememberedImage, destination: PushDestination, registry: String,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws -> Bool {
        let digests = remembered.blobs.map(\.digest)
        let available = try await ecr.batchCheckLayerAvailability(
            repository: destination.repository, digests: digests,
            registryId: destination.registryId)
        return remembered.confirm(
            missing: Set(digests.filter { available[$0] != true }), cache: settings.blobCache,
            scope: settings.cacheScope(registry), place: "\(registry)/\(destination.repository)",
            onEvent: onEvent)
    }

    private func putImages(
        _ manifest: ImageManifest, destination: PushDestination,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async throws {
        let manifestText = String(decoding: manifest.bytes, as: UTF8.self)
        for tag in destination.tags {
            onEvent(.tagging(tag))
            try await putImage(manifestText, manifest: manifest, tag: tag, destination: destination)
            onEvent(.tagged(tag))
            onEvent(.info("\(tag): digest: \(manifest.digest) size: \(manifest.bytes.count)"))
        }
    }

    typealias BlobSource = PreparedBlob.Source

    func upload(
        _ source: BlobSource, digest: String, size: Int64, repository: String, registryId: String?,
        progress: @escaping @Sendable (Int64) -> Void, onResume: @escaping @Sendable (Int64) -> Void = { _ in }
    ) async throws {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await uploadOnce(
                    source, digest: digest, size: size, repository: repository, registryId: registryId,
                    progress: progress, onResume: onResume)
                return
            } catch let error as AWSError where error.code == ECRErrorCode.layerAlreadyExists {
                return  // pushed meanwhile by someone else: what we wanted
            } catch let error as AWSError where Self.isRetryable(error) && attempt < uploadAttempts {
                continue  // a fresh upload session; never re-send from byte 0 on the old one
            }
        }
    }

    static func isRetryable(_ error: AWSError) -> Bool {
        switch error {
        case .endpointUnreachable: return true
        case .service(let details): return details.httpStatus >= 500 || details.code == ECRErrorCode.uploadNotFound
        default: return false
        }
    }

    private func uploadOnce(
        _ source: BlobSource, digest: String, size: Int64, repository: String, registryId: String?,
        progress: @Sendable (Int64) -> Void, onResume: @Sendable (Int64) -> Void
    ) async throws {
        let upload = try await ecr.initiateLayerUpload(repository: repository, registryId: registryId)
        let plan = LayerPartPlan(blobSize: size, suggested: upload.partSize)
        let reader = try Self.partSource(source)
        var next: Int64 = 0
        var resumes = 0
        while next < size {
            let range = plan.parts(from: next)[0]
            do {
                let last = try await ecr.uploadLayerPart(
                    repository: repository, uploadId: upload.uploadId,
                    range: range, source: reader, registryId: registryId)
                next = last + 1
                progress(next)
            } catch let error as AWSError where error.code == ECRErrorCode.invalidLayerPart && resumes < 3 {
                // ECR says how far it got: continue from the byte after that on the same upload.
                guard let text = error.serviceDetails?.fields["lastValidByteReceived"], let lastValid = Int64(text) else { throw error }
                resumes += 1
                next = lastValid + 1
                progress(next)
                onResume(next)
            }
        }
        _ = try await ecr.completeLayerUpload(
            repository: repository, uploadId: upload.uploadId, digest: digest,
            registryId: registryId)
    }

    private func putImage(_ text: String, manifest: ImageManifest, tag: String, destination: PushDestination) async throws {
        do {
            _ = try await ecr.putImage(
                repository: destination.repository, manifest: text, mediaType: manifest.mediaType,
                tag: tag, digest: manifest.digest, registryId: destination.registryId)
        } catch let error as AWSError
            where [ECRErrorCode.imageAlreadyExists, ECRErrorCode.imageTagAlreadyExists].contains(error.code ?? "")
        {
            // Success only if the tag already names exactly this manifest (a re-push); an immutable tag that
            // names another image is the user's problem to hear about, whichever of the two codes ECR chose.
            let existing = try await ecr.digest(forTag: tag, repository: destination.repository, registryId: destination.registryId)
            if existing == manifest.digest { return }
            throw ECRPushError.imageTagExists(
                repository: destination.repository, tag: tag,
                detail: "it points at \(existing ?? "another image")")
        } catch let error as AWSError where error.code == ECRErrorCode.layersNotFound || error.code == ECRErrorCode.imageDigestDoesNotMatch {
            throw ECRPushError.internalInconsistency(
                "ECR rejected the manifest ecrpush built (\(error)). This is a bug in ecrpush: please report it with the output of --debug.")
        }
    }
}

extension ECRAPIPush {
    static func partSource(_ source: BlobSource) throws -> any LayerPartSource {
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

/// A small blob (the image config) already in memory.
struct BytesPartSource: LayerPartSource {
    let bytes: [UInt8]

    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard offset < Int64(bytes.count) else { return 0 }
        let count = min(buffer.count, bytes.count - Int(offset))
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!.advanced(by: Int(offset)), byteCount: count) }
        return count
    }
}
