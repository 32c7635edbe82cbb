import DockerEngine
import Foundation
import ImageExport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Reads an image from the Docker Engine once and uploads each of its distinct blobs exactly once, at most
/// `jobs` at a time, overlapping the two: a layer's upload starts as soon as its compressed file is complete,
/// while the Engine is still sending the layers after it; the config (and any layer recognised only from the
/// archive's index) follows once the export is finished.
package enum EngineImageExport {
    private enum Event: Sendable {
        case layerStarted(GrowingLayer)
        case layerStored(ExportedLayer)
        case finished(ExportedImage)
    }

    private enum Finished: Sendable { case export, upload, growing }

    /// Returns the image once every upload has finished; the caller removes what is left of its files
    /// (`cleanup()`): each layer file is deleted as soon as its upload succeeded, and the export pauses while
    /// more than `temporarySpaceLimit` bytes of compressed layers wait for their upload, so the temporary
    /// space stays bounded (by that limit plus the layers being written or uploaded) whatever the image size.
    /// On failure the other uploads are cancelled and the temporary files removed.
    /// `knownLayers` (by diffID, with the image's `diffIDs`) are recognised in the stream and neither compressed nor
    /// stored: their `PreparedBlob`s come with the image at the end, naming the known blobs, with no file. A pending
    /// set lets the export start before they are known; the first layer entry waits for them.
    /// With `uploadGrowing`, a big layer's upload starts as its compression does and follows its file as it grows
    /// (`GrowingLayer`); when that returns false (refused or failed), the finished file is uploaded with `upload`.
    /// `ahead`: the export of `localImage`, requested before (`EngineExportAhead`), read instead of a new one.
    /// A known layer whose bytes are not the layer its directory promised (`layerPredictionFailed`: the Engine's
    /// export is not laid out as expected) makes it read the image once more, said on `onEvent`, recognising nothing:
    /// every layer is then compressed, and `upload` still decides what to send.
    static func exportAndUpload(
        _ localImage: String, docker: DockerClient, settings: ExportSettings, ahead: EngineExportAhead? = nil,
        knownLayers: KnownLayerSet = [:], diffIDs: [String] = [],
        uploadGrowing: (@Sendable (GrowingLayer) async -> Bool)? = nil,
        onEvent: @escaping @Sendable (WorkflowEvent) -> Void = { _ in },
        upload: @escaping @Sendable (PreparedBlob) async throws -> Void
    ) async throws -> ExportedImage {
        do {
            return try await exportAndUploadOnce(
                localImage, docker: docker, settings: settings, ahead: ahead, knownLayers: knownLayers, diffIDs: diffIDs,
                uploadGrowing: uploadGrowing, upload: upload)
        } catch ImageExportError.layerPredictionFailed(let path, _, _) {
            onEvent(.info("\(path) was not the layer its name promised; reading \(localImage) again"))
            return try await exportAndUploadOnce(
                localImage, docker: docker, settings: settings, knownLayers: [:], diffIDs: [], uploadGrowing: uploadGrowing, upload: upload)
        }
    }

    /// One read of the image, as `exportAndUpload` describes it.
    private static func exportAndUploadOnce(
        _ localImage: String, docker: DockerClient, settings: ExportSettings, ahead: EngineExportAhead? = nil,
        knownLayers: KnownLayerSet, diffIDs: [String], uploadGrowing: (@Sendable (GrowingLayer) async -> Bool)?,
        upload: @escaping @Sendable (PreparedBlob) async throws -> Void
    ) async throws -> ExportedImage {
        let (events, continuation) = AsyncThrowingStream<Event, any Error>.makeStream()
        let budget = TemporarySpaceBudget(limit: settings.temporarySpaceLimit)
        let jobs = settings.jobs
        // Growing layers are uploaded as they are written: their files never wait, so they are not in the budget.
        let growingPaths = Mutex<Set<String>>([])
        var options = ImageExportReader.Options(
            compressionLevel: settings.compressionLevel, temporaryDirectoryParent: settings.temporaryDirectoryParent,
            onLayerStored: { layer in
                guard !growingPaths.withLock({ $0.contains(layer.path) }) else { return }
                budget.add(layer.size)
                continuation.yield(.layerStored(layer))
                // On the transfer thread: waiting here holds the Engine's stream back (backpressure).
                budget.waitUntilWithinLimit()
            }, compression: settings.compression)
        if uploadGrowing != nil {
            options.growingLayerMinimumSize = settings.growingLayerMinimumSize
            options.onLayerStarted = { layer in
                growingPaths.withLock { _ = $0.insert(layer.path) }
                continuation.yield(.layerStarted(layer))
            }
        }
        options.knownLayers = knownLayers
        options.layerDiffIDs = diffIDs
        let reader = try ImageExportReader(options: options)
        do {
            return try await withTaskCancellationHandler {
                try await exportAndUploadConcurrently(
                    localImage, docker: docker, ahead: ahead, reader: reader, events: events, continuation: continuation,
                    budget: budget, jobs: jobs, uploadGrowing: uploadGrowing, upload: upload)
            } onCancel: {
                budget.abandon()
            }
        } catch {
            budget.abandon()
            reader.cancel()
            throw error
        }
    }

    /// The export as one child task and the uploads as others, at most `jobs` of them at a time, each blob once.
    private static func exportAndUploadConcurrently(
        _ localImage: String, docker: DockerClient, ahead: EngineExportAhead?, reader: ImageExportReader,
        events: AsyncThrowingStream<Event, any Error>,
        continuation: AsyncThrowingStream<Event, any Error>.Continuation, budget: TemporarySpaceBudget, jobs: Int,
        uploadGrowing: (@Sendable (GrowingLayer) async -> Bool)?, upload: @escaping @Sendable (PreparedBlob) async throws -> Void
    ) async throws -> ExportedImage {
        var exported: ExportedImage?
        // An export that found a layer other than predicted (`layerPredictionFailed`) removes its files, and an upload
        // reading one of them then fails too: the export's error must be the one thrown, so that the image is read
        // again, whichever of the two reaches the group first.
        let mispredicted = Misprediction()
        do {
            try await withThrowingTaskGroup(of: Finished.self) { group in
                group.addTask {
                    // Recorded where the reader finds it (having removed its files), before an upload that finds its
                    // file gone can end the group, and before the Engine's transfer turns it into a cancellation.
                    let feed = { @Sendable (chunk: UnsafeRawBufferPointer) throws in
                        do {
                            try reader.feed(chunk)
                        } catch let failure as ImageExportError {
                            if case .layerPredictionFailed = failure { mispredicted.error.withLock { $0 = failure } }
                            throw failure
                        }
                    }
                    do {
                        if let ahead {
                            try await ahead.take(feed)
                        } else {
                            try await docker.exportImage([localImage], onBody: feed)
                        }
                        continuation.yield(.finished(try reader.finish()))
                        continuation.finish()
                    } catch {
                        continuation.finish(throwing: error)
                        reader.cancel()
                        throw error
                    }
                    return .export
                }
                var started = Set<String>()
                var growingLayers: [GrowingLayer] = []
                var running = 0
                /// `counted`: the blob's bytes are in the temporary-space budget (announced while the export ran).
                func start(_ blob: PreparedBlob, counted: Bool) async throws {
                    guard started.insert(blob.digest).inserted else { return }
                    while running >= max(1, jobs) {
                        if try await group.next() == .upload { running -= 1 }
                    }
                    running += 1
                    group.addTask {
                        do {
                            try await upload(blob)
                        } catch {
                            // Ends the wait for export events at once: no point reading the rest of the image.
                            budget.abandon()
                            continuation.finish(throwing: error)
                            throw error
                        }
                        if case .file(let path) = blob.source {
                            // Uploaded: the file is not needed again (the manifest is built from the digests).
                            _ = path.withCString { unlink($0) }
                        }
                        if counted { budget.remove(blob.size) }
                        return .upload
                    }
                }
                for try await event in events {
                    switch event {
                    case .layerStarted(let layer):
                        guard let uploadGrowing else { continue }
                        growingLayers.append(layer)
                        // Not one of the `jobs`: it starts now, while the layer is compressed (that is the point).
                        group.addTask {
                            let sent = await uploadGrowing(layer)
                            let completion: GrowingLayer.Completion
                            do {
                                completion = try await layer.completed()
                            } catch {
                                // The export failed: its own error ends the push.
                                return .growing
                            }
                            if !sent {
                                // Sent again from the finished file, with the usual retries.
                                do {
                                    try await upload(
                                        PreparedBlob(
                                            digest: completion.digest, size: completion.size, source: .file(layer.path), diffID: completion.diffID))
                                } catch {
                                    budget.abandon()
                                    continuation.finish(throwing: error)
                                    throw error
                                }
                            }
                            _ = layer.path.withCString { unlink($0) }
                            return .growing
                        }
                    case .layerStored(let layer):
                        try await start(
                            PreparedBlob(digest: layer.digest, size: layer.size, source: .file(layer.path), diffID: layer.diffID), counted: true)
                    case .finished(let image):
                        exported = image
                        // Complete now (the export is over), and sent by their own tasks.
                        for layer in growingLayers { if let completion = layer.completion { started.insert(completion.digest) } }
                        for blob in PreparedBlob.blobs(of: image) { try await start(blob, counted: false) }
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            exported?.cleanup()  // an image not yet handed over also cleans up when released
            if let failure = mispredicted.error.withLock({ $0 }) { throw failure }
            throw error
        }
        guard let image = exported else {
            throw ECRPushError.internalInconsistency("the image export ended without an image")
        }
        return image
    }

    /// The export's `layerPredictionFailed`, shared between its task and the group's end.
    private final class Misprediction: Sendable {
        let error = Mutex<ImageExportError?>(nil)
    }

    /// Compressed bytes allowed to wait for their upload before the export pauses.
    package static let defaultTemporarySpaceLimit: Int64 = 2 << 30
}
