import ECR
import Synchronization

/// Layer uploads initiated before their blob is whole: the relay asks for one when the Engine starts an upload,
/// so that sending the blob on once the Engine has finished skips InitiateLayerUpload's round trip. Shared by
/// copies of a store. ECR's API cannot abandon an upload; one no blob took expires on its own.
final class ECRUploadsAhead: Sendable {
    private let uploads = Mutex<[Task<ECRClient.LayerUpload?, Never>]>([])

    func add(_ upload: Task<ECRClient.LayerUpload?, Never>) { uploads.withLock { $0.append(upload) } }

    /// An upload initiated ahead (waiting for it), or nil when none could be.
    func take() async -> ECRClient.LayerUpload? {
        while let upload = uploads.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            if let initiated = await upload.value { return initiated }
        }
        return nil
    }

    /// Lets go of those not taken, once their requests have ended.
    func discard() async {
        for upload in uploads.withLock({ uploads in
            defer { uploads = [] }
            return uploads
        }) {
            _ = await upload.value
        }
    }
}

extension ECRBlobStore {
    func prepareUpload() {
        let (ecr, repository, registryId) = (self.ecr, self.repository, self.registryId)
        uploadsAhead.add(Task { try? await ecr.initiateLayerUpload(repository: repository, registryId: registryId) })
    }

    func discardPreparedUploads() async { await uploadsAhead.discard() }
}
