import AWSCredentials
import ECRPushKit
import Foundation
import HTTPTransport
import Testing
import TestWorld

/// The cache key names the principal, not the credentials: two assume-role sessions (two different access key
/// ids) of the same role give the same key, so the second run finds the first run's login.
@Suite struct TokenCacheKeyStabilityTests {
    @Test func sameKeyAcrossAssumedRoleSessions() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let environment = ["AWS_IAM_USER_ACCESS_KEY_ID": moto.userAccessKeyId,
                           "AWS_IAM_USER_SECRET_ACCESS_KEY": moto.userSecretAccessKey,
                           "AWS_IAM_ROLE_ARN": moto.roleArn, "AWS_REGION": moto.region,
                           "AWS_ENDPOINT_URL": moto.endpoint.absoluteString,
                           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                           "AWS_EC2_METADATA_DISABLED": "true"]
        var keys: [TokenCacheKey] = []
        var accessKeyIds: Set<String> = []
        for _ in 0..<2 {
            let resolved = try await AWSResolver.resolve(AWSResolutionInput(environment: environment, homeDirectory: "/nonexistent"),
                                                         http: HTTPClient(), debug: nil)
            accessKeyIds.insert(try await resolved.context.credentialProvider.credentials().accessKeyId)
            let principal = try await CachedLoginWorkflow.principal(of: resolved)
            keys.append(CachedLoginWorkflow.key(resolved: resolved, registryId: moto.accountId, principal: principal))
        }
        #expect(accessKeyIds.count == 2, "each run assumed the role anew")
        #expect(keys[0] == keys[1])
        #expect(keys[0].principal.contains(moto.roleArn))
        #expect(try await moto.counts()["GetCallerIdentity"] == nil, "a role names itself: no STS call for the key")
    }

    /// Plain keys say nothing about who they belong to: the caller's ARN does.
    @Test func plainKeysAreNamedByTheCallersARN() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let resolved = try await AWSResolver.resolve(AWSResolutionInput(environment: moto.awsEnvironment(.user), homeDirectory: "/nonexistent"),
                                                     http: HTTPClient(), debug: nil)
        let principal = try await CachedLoginWorkflow.principal(of: resolved)
        #expect(principal.hasPrefix("caller arn:aws:iam::\(moto.accountId):user/"))
        #expect(!principal.contains(moto.userAccessKeyId))
    }
}
