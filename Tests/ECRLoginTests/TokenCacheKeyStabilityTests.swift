import AWSCredentials
import ECRLogin
import Foundation
import HTTPTransport
import TestWorld
import Testing

/// The cache key names the principal, not the credentials: two assume-role sessions (two different access key
/// ids) of the same role give the same key, so the second run finds the first run's login.
@Suite struct TokenCacheKeyStabilityTests {
    @Test func sameKeyAcrossAssumedRoleSessions() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let environment = LoginAheadTests.containeriseEnvironment(moto)
        var keys: [TokenCacheKey] = []
        var accessKeyIds: Set<String> = []
        for _ in 0..<2 {
            let resolved = try await AWSResolver.resolve(
                AWSResolutionInput(environment: environment, homeDirectory: "/nonexistent"),
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

    /// An IAM user's long-term key (AKIA…, no session token) is a stable identity: named by a keyed digest of the
    /// key, with no STS call, and neither the key id nor the secret shows in the principal.
    @Test func longTermKeysAreNamedWithoutAnSTSCall() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let resolved = try await AWSResolver.resolve(
            AWSResolutionInput(environment: moto.awsEnvironment(.user), homeDirectory: "/nonexistent"),
            http: HTTPClient(), debug: nil)
        let principal = try await CachedLoginWorkflow.principal(of: resolved)
        #expect(moto.userAccessKeyId.hasPrefix("AKIA"))
        #expect(principal.hasPrefix("long-term key "))
        #expect(!principal.contains(moto.userAccessKeyId) && !principal.contains(moto.userSecretAccessKey))
        #expect(try await moto.counts()["GetCallerIdentity"] == nil)

        // Another user's key, and the same key id with a wrong secret, are other principals.
        let admin = try await AWSResolver.resolve(
            AWSResolutionInput(environment: moto.awsEnvironment(.admin), homeDirectory: "/nonexistent"),
            http: HTTPClient(), debug: nil)
        #expect(try await CachedLoginWorkflow.principal(of: admin) != principal)
        var wrongSecret = moto.awsEnvironment(.user)
        wrongSecret["AWS_SECRET_ACCESS_KEY"] = "wrongSecretKeyValue0000000000000000000000"
        let wrong = try await AWSResolver.resolve(
            AWSResolutionInput(environment: wrongSecret, homeDirectory: "/nonexistent"),
            http: HTTPClient(), debug: nil)
        #expect(try await CachedLoginWorkflow.principal(of: wrong) != principal)
    }

    /// Temporary keys (a session token) change every session: the caller's ARN names them, at one STS call.
    @Test func temporaryKeysAreNamedByTheCallersARN() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let viaRole = try await AWSResolver.resolve(
            AWSResolutionInput(
                environment: moto.awsEnvironment(.user), homeDirectory: "/nonexistent",
                roleArn: moto.roleArn), http: HTTPClient(), debug: nil)
        let session = try await viaRole.context.credentialProvider.credentials()
        var environment = moto.awsEnvironment(.user)
        environment["AWS_ACCESS_KEY_ID"] = session.accessKeyId
        environment["AWS_SECRET_ACCESS_KEY"] = session.secretAccessKey
        environment["AWS_SESSION_TOKEN"] = session.sessionToken
        let resolved = try await AWSResolver.resolve(
            AWSResolutionInput(environment: environment, homeDirectory: "/nonexistent"),
            http: HTTPClient(), debug: nil)
        let principal = try await CachedLoginWorkflow.principal(of: resolved)
        #expect(principal.hasPrefix("caller arn:aws:sts::\(moto.accountId):assumed-role/ecr-pusher/"))
        #expect(!principal.contains(session.accessKeyId))
        #expect(try await moto.counts()["GetCallerIdentity"] == 1)
    }

    /// ECR Public's login never shares a key with the private registry's, even when one endpoint serves both.
    @Test func publicAndPrivateKeysDiffer() async throws {
        let environment = [
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret", "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true"
        ]
        let resolved = try await AWSResolver.resolve(
            AWSResolutionInput(environment: environment, homeDirectory: "/nonexistent"),
            http: HTTPClient(), debug: nil)
        let own = CachedLoginWorkflow.key(resolved: resolved, registryId: nil, principal: "p")
        let publicKey = CachedLoginWorkflow.publicKey(resolved: resolved, principal: "p")
        #expect(own.endpoint == publicKey.endpoint && own.region == publicKey.region)
        #expect(own != publicKey && own.fileName != publicKey.fileName)
        #expect(publicKey.registryId == "ecr-public")
    }
}
