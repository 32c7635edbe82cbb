import AWSCore
import Foundation
import Hashing

/// An image in a repository, named by tag or by manifest digest (`sha256:<hex>`).
package enum ECRImageID: Sendable, Equatable, Encodable, CustomStringConvertible {
    case tag(String)
    case digest(String)

    private enum CodingKeys: String, CodingKey { case imageTag, imageDigest }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .tag(let tag): try container.encode(tag, forKey: .imageTag)
        case .digest(let digest): try container.encode(digest, forKey: .imageDigest)
        }
    }

    /// `:tag` or `@sha256:…`, as it follows a repository name.
    package var description: String {
        switch self {
        case .tag(let tag): return ":\(tag)"
        case .digest(let digest): return "@\(digest)"
        }
    }

    package func validate() throws(ECRError) {
        switch self {
        case .tag(let tag): try ECRValidation.validateTag(tag)
        case .digest(let digest): try ECRValidation.validateDigest(digest)
        }
    }
}

/// A manifest exactly as ECR stores it: PutImage of these bytes under another tag moves nothing else.
package struct StoredManifest: Sendable, Equatable {
    package var digest: String
    /// The manifest text, byte for byte (its sha256 is `digest`).
    package var manifest: String
    package var mediaType: String

    package init(digest: String, manifest: String, mediaType: String) {
        self.digest = digest
        self.manifest = manifest
        self.mediaType = mediaType
    }
}

/// What DescribeImages says of one image.
package struct ImageDetail: Sendable, Equatable, Decodable {
    package var imageDigest: String
    package var imageTags: [String]?
    package var imageManifestMediaType: String?
    package var imageSizeInBytes: Int64?
}

extension ECRClient {
    /// Every manifest kind ecrpush handles: without `acceptedMediaTypes` ECR converts an OCI manifest or answers
    /// a manifest list with a failure, and a converted manifest has another digest.
    package static let manifestMediaTypes = [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.index.v1+json"
    ]

    private struct BatchGetImageInput: Encodable {
        var registryId: String?
        var repositoryName: String
        var imageIds: [ECRImageID]
        var acceptedMediaTypes: [String]
    }
    private struct BatchGetImageOutput: Decodable {
        struct Image: Decodable {
            struct ID: Decodable { var imageDigest: String?; var imageTag: String? }
            var imageId: ID?
            var imageManifest: String?
            var imageManifestMediaType: String?
        }
        struct Failure: Decodable { var failureCode: String?; var failureReason: String? }
        var images: [Image]?
        var failures: [Failure]?
    }

    /// The manifest `image` names, as stored; nil when the repository has no such image. Other failures
    /// (a KMS error, a tag that does not match a digest) are thrown as `ECRError.imageUnavailable`.
    package func manifest(of image: ECRImageID, repository: String, registryId: String? = nil) async throws -> StoredManifest? {
        try ECRValidation.validateRepositoryName(repository)
        try image.validate()
        if let registryId { try ECRValidation.validateRegistryIds([registryId]) }
        let output = try await call(
            "BatchGetImage",
            BatchGetImageInput(
                registryId: registryId, repositoryName: repository, imageIds: [image], acceptedMediaTypes: Self.manifestMediaTypes),
            as: BatchGetImageOutput.self)
        if let found = output.images?.first, let manifest = found.imageManifest {
            let digest = found.imageId?.imageDigest ?? SHA256.hash(manifest).ociDigest
            let mediaType = found.imageManifestMediaType ?? Self.declaredMediaType(of: manifest)
            guard let mediaType else {
                throw AWSError.malformedResponse(service: "ECR", action: "BatchGetImage", detail: "the manifest of \(image) has no media type")
            }
            return StoredManifest(digest: digest, manifest: manifest, mediaType: mediaType)
        }
        if let failure = output.failures?.first, failure.failureCode != "ImageNotFound" {
            throw ECRError.imageUnavailable(
                repository: repository, image: image.description, code: failure.failureCode ?? "unknown",
                reason: failure.failureReason ?? "")
        }
        return nil
    }

    /// The manifest's own `mediaType` field (ECR omits `imageManifestMediaType` for some old images).
    static func declaredMediaType(of manifest: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(manifest.utf8)) as? [String: Any] else { return nil }
        return object["mediaType"] as? String
    }

    private struct DescribeImageInput: Encodable {
        var repositoryName: String
        var registryId: String?
        var imageIds: [ECRImageID]
    }
    private struct DescribeImageOutput: Decodable { var imageDetails: [ImageDetail]? }

    /// The image's digest and tags, or nil when the repository has no such image.
    package func describeImage(_ image: ECRImageID, repository: String, registryId: String? = nil) async throws -> ImageDetail? {
        try ECRValidation.validateRepositoryName(repository)
        try image.validate()
        do {
            let output = try await call(
                "DescribeImages", DescribeImageInput(repositoryName: repository, registryId: registryId, imageIds: [image]),
                as: DescribeImageOutput.self)
            return output.imageDetails?.first
        } catch let error as AWSError where error.code == ECRErrorCode.imageNotFound {
            return nil
        }
    }
}
