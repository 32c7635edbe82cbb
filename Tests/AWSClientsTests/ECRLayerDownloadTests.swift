import AWSCore
import ECR
import Foundation
import Hashing
import SigV4
import TestWorld
import Testing

/// GetDownloadUrlForLayer and `Range` reads of its URL, against moto with a real registry behind it.
@Suite struct ECRLayerDownloadTests {
    @Test func aLayerIsReadInPartsFromItsDownloadURL() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let credentials = Credentials(accessKeyId: moto.adminAccessKeyId, secretAccessKey: moto.adminSecretAccessKey)
        let ecr = ECRClient(context: STSAndECRClientTests.context(moto, credentials))
        let repository = "download-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await ecr.createRepository(name: repository)
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 9) }
        let digest = SHA256.hash(bytes).ociDigest
        let upload = try await ecr.initiateLayerUpload(repository: repository)
        _ = try await ecr.uploadLayerPart(
            repository: repository, uploadId: upload.uploadId, range: 0...299_999, source: LayerPartBodyTests.Source(bytes: bytes))
        _ = try await ecr.completeLayerUpload(repository: repository, uploadId: upload.uploadId, digest: digest)

        let url = try await ecr.downloadURL(forLayer: digest, repository: repository)
        let first = try await ecr.readLayerPart(at: url, digest: digest, range: 0...99_999)
        let rest = try await ecr.readLayerPart(at: url, digest: digest, range: 100_000...299_999)
        #expect(first + rest == bytes)
        let counts = try await moto.counts()
        #expect(counts["LayerDownloadPart"] == 2 && counts["LayerDownload", default: 0] == 0, "each read a range: \(counts)")

        // A layer the repository lacks has no URL.
        let missing = "sha256:" + String(repeating: "0", count: 64)
        await #expect {
            _ = try await ecr.downloadURL(forLayer: missing, repository: repository)
        } throws: { error in
            (error as? AWSError)?.code == "LayerNotFoundException"
        }
        // A URL that no longer reads (here: an unknown one) says so, without the URL's signature.
        let unknown = url.replacingOccurrences(of: "/layers/", with: "/layers/0")
        await #expect {
            _ = try await ecr.readLayerPart(at: unknown, digest: digest, range: 100_000...199_999)
        } throws: { error in
            guard case ECRError.layerReadFailed(_, _, _, let status, _) = error else { return false }
            return status == 403 && !"\(error)".contains("X-Amz-Signature=") && "\(error)".contains(digest)
        }
    }
}
