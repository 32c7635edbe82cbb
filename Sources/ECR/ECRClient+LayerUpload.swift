import AWSCore
import Foundation

/// ECR's own push API: layers in parts, then the manifest. Needs only IAM (no registry password at all).
extension ECRClient {
    package struct LayerAvailability: Sendable, Equatable {
        package var digest: String
        package var available: Bool
    }

    private struct BatchCheckInput: Encodable { var registryId: String?; var repositoryName: String; var layerDigests: [String] }
    private struct BatchCheckOutput: Decodable {
        struct Layer: Decodable { var layerDigest: String?; var layerAvailability: String?; var layerSize: Int64? }
        struct Failure: Decodable { var layerDigest: String?; var failureCode: String?; var failureReason: String? }
        var layers: [Layer]?
        var failures: [Failure]?
    }

    /// Which of `digests` the repository already has; asks in batches of 100 (ECR's limit).
    package func batchCheckLayerAvailability(repository: String, digests: [String], registryId: String? = nil) async throws -> [String: Bool] {
        var result: [String: Bool] = [:]
        for start in stride(from: 0, to: digests.count, by: 100) {
            let batch = Array(digests[start..<min(start + 100, digests.count)])
            let output = try await call(
                "BatchCheckLayerAvailability",
                BatchCheckInput(registryId: registryId, repositoryName: repository, layerDigests: batch),
                as: BatchCheckOutput.self)
            for digest in batch { result[digest] = false }
            for layer in output.layers ?? [] {
                if let digest = layer.layerDigest { result[digest] = layer.layerAvailability == "AVAILABLE" }
            }
        }
        return result
    }

    /// The layer's size when the repository holds it (BatchCheckLayerAvailability), else nil.
    package func layerSize(repository: String, digest: String, registryId: String? = nil) async throws -> Int64? {
        let output = try await call(
            "BatchCheckLayerAvailability",
            BatchCheckInput(registryId: registryId, repositoryName: repository, layerDigests: [digest]),
            as: BatchCheckOutput.self)
        let layer = output.layers?.first { $0.layerDigest == digest && $0.layerAvailability == "AVAILABLE" }
        return layer?.layerSize
    }

    package struct LayerUpload: Sendable, Equatable {
        package var uploadId: String
        package var partSize: Int64
    }

    private struct RepositoryInput: Encodable { var registryId: String?; var repositoryName: String }
    private struct InitiateOutput: Decodable { var uploadId: String; var partSize: Int64? }

    package func initiateLayerUpload(repository: String, registryId: String? = nil) async throws -> LayerUpload {
        let output = try await call(
            "InitiateLayerUpload", RepositoryInput(registryId: registryId, repositoryName: repository),
            as: InitiateOutput.self)
        return LayerUpload(uploadId: output.uploadId, partSize: output.partSize ?? 10 << 20)
    }

    private struct UploadPartOutput: Decodable { var lastByteReceived: Int64? }

    /// Sends bytes `range` (inclusive) of the layer, read from `source` while the request streams out;
    /// returns the last byte ECR has.
    package func uploadLayerPart(
        repository: String, uploadId: String, range: ClosedRange<Int64>, source: any LayerPartSource,
        registryId: String? = nil
    ) async throws -> Int64 {
        var prefix = "{"
        if let registryId { prefix += "\"registryId\":\(jsonString(registryId))," }
        prefix += "\"repositoryName\":\(jsonString(repository)),\"uploadId\":\(jsonString(uploadId)),"
        prefix += "\"partFirstByte\":\(range.lowerBound),\"partLastByte\":\(range.upperBound),\"layerPartBlob\":\""
        let body = LayerPartBody(prefix: Array(prefix.utf8), source: source, range: range)
        let payload = AWSServiceClient.Payload.stream(
            length: body.length, sha256Hex: try body.sha256(),
            makeProducer: { body.makeProducer() })
        let output = try await service.rawJSON(
            targetPrefix: Self.targetPrefix, action: "UploadLayerPart", payload: payload,
            output: UploadPartOutput.self)
        return output.lastByteReceived ?? range.upperBound
    }

    private struct CompleteInput: Encodable {
        var registryId: String?; var repositoryName: String; var uploadId: String; var layerDigests: [String]
    }
    private struct CompleteOutput: Decodable { var layerDigest: String? }

    package func completeLayerUpload(
        repository: String, uploadId: String, digest: String,
        registryId: String? = nil
    ) async throws -> String {
        let output = try await call(
            "CompleteLayerUpload",
            CompleteInput(
                registryId: registryId, repositoryName: repository, uploadId: uploadId,
                layerDigests: [digest]),
            as: CompleteOutput.self)
        return output.layerDigest ?? digest
    }

    private struct PutImageInput: Encodable {
        var registryId: String?; var repositoryName: String; var imageManifest: String
        var imageManifestMediaType: String?; var imageTag: String?; var imageDigest: String?
    }
    private struct PutImageOutput: Decodable {
        struct Image: Decodable { struct ID: Decodable { var imageDigest: String?; var imageTag: String? }; var imageId: ID? }
        var image: Image?
    }

    /// Puts the manifest under `tag`; returns the digest ECR computed.
    package func putImage(
        repository: String, manifest: String, mediaType: String, tag: String, digest: String?,
        registryId: String? = nil
    ) async throws -> String? {
        try ECRValidation.validateTag(tag)
        let output = try await call(
            "PutImage",
            PutImageInput(
                registryId: registryId, repositoryName: repository, imageManifest: manifest,
                imageManifestMediaType: mediaType, imageTag: tag, imageDigest: digest),
            as: PutImageOutput.self)
        return output.image?.imageId?.imageDigest
    }

    private func jsonString(_ text: String) -> String {
        let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
