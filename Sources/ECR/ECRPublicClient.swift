import AWSCore
import Foundation

/// Amazon ECR Public (`public.ecr.aws`) over JSON 1.1: only the login. Its API lives in us-east-1 alone, so
/// requests are signed for us-east-1 and sent to `api.ecr-public.us-east-1.amazonaws.com` (or
/// `AWS_ENDPOINT_URL_ECR_PUBLIC` / `--endpoint-url`) whatever region the caller works in.
package struct ECRPublicClient: Sendable {
    static let targetPrefix = "SpencerFrontendService"
    package static let region = "us-east-1"
    /// The one registry ECR Public serves; its token carries no proxyEndpoint.
    package static let registryHost = "public.ecr.aws"

    let service: AWSServiceClient

    package init(context: AWSContext) {
        service = AWSServiceClient(service: .ecrPublic, context: context, signingRegion: Self.region)
    }

    package var endpoint: String { service.endpoint }

    private struct TokenInput: Encodable {}
    private struct TokenOutput: Decodable {
        struct Item: Decodable { var authorizationToken: String?; var expiresAt: Double? }
        var authorizationData: Item?
    }

    /// The docker login for `public.ecr.aws`. AWS requires `ecr-public:GetAuthorizationToken` and
    /// `sts:GetServiceBearerToken`; a denial of either becomes `ECRError.publicLoginDenied`.
    package func getAuthorizationToken() async throws -> RegistryAuthorization {
        let output: TokenOutput
        do {
            output = try await service.json(
                targetPrefix: Self.targetPrefix, action: "GetAuthorizationToken",
                input: TokenInput(), output: TokenOutput.self)
        } catch let error as AWSError where error.code == "AccessDeniedException" || error.code == "AccessDenied" {
            throw ECRError.publicLoginDenied(message: error.serviceDetails?.message ?? "")
        }
        guard let item = output.authorizationData, let token = item.authorizationToken else {
            throw ECRError.malformedAuthorizationToken(detail: "ECR Public returned no authorizationData")
        }
        return try RegistryAuthorization.decode(
            token: token, proxyEndpoint: "https://" + Self.registryHost,
            expiresAt: item.expiresAt.map { Date(timeIntervalSince1970: $0) })
    }
}
