import AWSCore
import Foundation

/// Amazon ECR over JSON 1.1.
package struct ECRClient: Sendable {
    static let targetPrefix = "AmazonEC2ContainerRegistry_V20150921"
    let service: AWSServiceClient

    package init(context: AWSContext) {
        service = AWSServiceClient(service: .ecr, context: context)
    }

    package var endpoint: String { service.endpoint }

    /// Opens `count` connections to ECR's endpoint ahead of the calls that will take them
    /// (`AWSServiceClient.openConnections`).
    package func openConnections(_ count: Int) {
        service.openConnections(count)
    }

    func call<Output: Decodable>(_ action: String, _ input: some Encodable, as output: Output.Type) async throws -> Output {
        try await service.json(targetPrefix: Self.targetPrefix, action: action, input: input, output: output)
    }

    // MARK: GetAuthorizationToken

    private struct TokenInput: Encodable { var registryIds: [String]? }
    private struct TokenOutput: Decodable {
        struct Item: Decodable { var authorizationToken: String; var expiresAt: Double?; var proxyEndpoint: String }
        var authorizationData: [Item]
    }

    /// One login per registry: the caller's own when `registryIds` is empty, else one per id (cross-account).
    package func getAuthorizationToken(registryIds: [String] = []) async throws -> [RegistryAuthorization] {
        try ECRValidation.validateRegistryIds(registryIds)
        let output = try await call(
            "GetAuthorizationToken", TokenInput(registryIds: registryIds.isEmpty ? nil : registryIds),
            as: TokenOutput.self)
        return try output.authorizationData.map { item in
            try RegistryAuthorization.decode(
                token: item.authorizationToken, proxyEndpoint: item.proxyEndpoint,
                expiresAt: item.expiresAt.map { Date(timeIntervalSince1970: $0) })
        }
    }

    // MARK: Repositories

    private struct DescribeInput: Encodable { var repositoryNames: [String]?; var registryId: String? }
    private struct DescribeOutput: Decodable { var repositories: [Repository]? }

    /// Throws `AWSError.service` with `RepositoryNotFoundException` when a named repository is missing.
    package func describeRepositories(names: [String], registryId: String? = nil) async throws -> [Repository] {
        for name in names { try ECRValidation.validateRepositoryName(name) }
        if let registryId { try ECRValidation.validateRegistryIds([registryId]) }
        let output = try await call(
            "DescribeRepositories",
            DescribeInput(repositoryNames: names.isEmpty ? nil : names, registryId: registryId),
            as: DescribeOutput.self)
        return output.repositories ?? []
    }

    /// The repository, or nil when ECR says it does not exist.
    package func findRepository(_ name: String, registryId: String? = nil) async throws -> Repository? {
        do {
            return try await describeRepositories(names: [name], registryId: registryId).first
        } catch let error as AWSError where error.code == ECRErrorCode.repositoryNotFound {
            return nil
        }
    }

    private struct CreateInput: Encodable {
        struct ScanningConfiguration: Encodable { var scanOnPush: Bool }
        var repositoryName: String
        var registryId: String?
        var imageTagMutability: String?
        var imageScanningConfiguration: ScanningConfiguration?
    }
    /// CreateRepository's and DeleteRepository's answer.
    private struct RepositoryOutput: Decodable { var repository: Repository }

    package func createRepository(
        name: String, registryId: String? = nil, tagMutability: ImageTagMutability? = nil,
        scanOnPush: Bool? = nil
    ) async throws -> Repository {
        try ECRValidation.validateRepositoryName(name)
        if let registryId { try ECRValidation.validateRegistryIds([registryId]) }
        let input = CreateInput(
            repositoryName: name, registryId: registryId, imageTagMutability: tagMutability?.rawValue,
            imageScanningConfiguration: scanOnPush.map { .init(scanOnPush: $0) })
        return try await call("CreateRepository", input, as: RepositoryOutput.self).repository
    }

    private struct DeleteInput: Encodable { var repositoryName: String; var registryId: String? }

    /// Deletes an empty repository: ECR refuses (`RepositoryNotEmptyException`) one that holds an image.
    package func deleteRepository(name: String, registryId: String? = nil) async throws {
        try ECRValidation.validateRepositoryName(name)
        if let registryId { try ECRValidation.validateRegistryIds([registryId]) }
        _ = try await call("DeleteRepository", DeleteInput(repositoryName: name, registryId: registryId), as: RepositoryOutput.self)
    }
}

// MARK: Images

extension ECRClient {
    private struct ImageIdentifier: Codable { var imageTag: String?; var imageDigest: String? }
    private struct DescribeImagesInput: Encodable {
        var repositoryName: String
        var registryId: String?
        var imageIds: [ImageIdentifier]
    }
    private struct DescribeImagesOutput: Decodable {
        struct Detail: Decodable { var imageDigest: String?; var imageTags: [String]? }
        var imageDetails: [Detail]?
    }

    /// The manifest digest a tag points at, or nil when the tag does not exist.
    package func digest(forTag tag: String, repository: String, registryId: String? = nil) async throws -> String? {
        try ECRValidation.validateRepositoryName(repository)
        try ECRValidation.validateTag(tag)
        do {
            let output = try await call(
                "DescribeImages",
                DescribeImagesInput(
                    repositoryName: repository, registryId: registryId,
                    imageIds: [ImageIdentifier(imageTag: tag)]),
                as: DescribeImagesOutput.self)
            return output.imageDetails?.first?.imageDigest
        } catch let error as AWSError where error.code == ECRErrorCode.imageNotFound {
            return nil
        }
    }
}
