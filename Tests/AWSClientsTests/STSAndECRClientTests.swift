import AWSCore
import ECR
import Foundation
import HTTPTransport
import STS
import SigV4
import TestWorld
import Testing

/// The STS and ECR clients against moto, with every signature and IAM permission checked.
@Suite struct STSAndECRClientTests {
    static func context(_ moto: MotoWorld, _ credentials: Credentials) -> AWSContext {
        AWSContext(
            region: moto.region, endpoints: EndpointConfiguration(globalURL: moto.endpoint.absoluteString),
            credentialProvider: StaticCredentialProvider(credentials, source: "test"),
            retry: RetryPolicy(maxAttempts: 1))
    }

    static func userCredentials(_ moto: MotoWorld) -> Credentials {
        Credentials(accessKeyId: moto.userAccessKeyId, secretAccessKey: moto.userSecretAccessKey)
    }

    @Test func assumeRoleThenUseECR() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let sts = STSClient(context: Self.context(moto, Self.userCredentials(moto)))
        let caller = try await sts.getCallerIdentity()
        #expect(caller.arn == "arn:aws:iam::\(moto.accountId):user/ci-user")
        #expect(caller.account == moto.accountId)

        let role = try await sts.assumeRole(.init(roleArn: moto.roleArn, roleSessionName: "clients", durationSeconds: 900))
        #expect(role.assumedRoleArn == "arn:aws:sts::\(moto.accountId):assumed-role/ecr-pusher/clients")
        #expect(role.credentials.sessionToken?.isEmpty == false)
        let expiration = try #require(role.credentials.expiration)
        #expect(expiration > Date())

        let ecr = ECRClient(context: Self.context(moto, role.credentials))
        let logins = try await ecr.getAuthorizationToken()
        #expect(logins.count == 1)
        #expect(logins.first?.username == "AWS")
        #expect(logins.first?.expiresAt.map { $0 > Date() } == true)

        #expect(try await ecr.findRepository("clients-repo") == nil)
        let created = try await ecr.createRepository(name: "clients-repo", tagMutability: .immutable, scanOnPush: true)
        #expect(created.repositoryName == "clients-repo")
        #expect(created.imageTagMutability == "IMMUTABLE")
        #expect(created.registryHost?.hasPrefix(moto.accountId) == true)
        let found = try await ecr.findRepository("clients-repo")
        #expect(found?.repositoryArn == created.repositoryArn)
        #expect(try await ecr.digest(forTag: "nope", repository: "clients-repo") == nil)
        try await ecr.deleteRepository(name: "clients-repo")
        #expect(try await ecr.findRepository("clients-repo") == nil)
    }

    @Test func accessDeniedNamesTheAction() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        // The IAM user may only assume the role: ECR itself is denied.
        let ecr = ECRClient(context: Self.context(moto, Self.userCredentials(moto)))
        do {
            _ = try await ecr.getAuthorizationToken()
            Issue.record("the IAM user must not reach ECR directly")
        } catch let error as AWSError {
            #expect(error.code == "AccessDeniedException")
            #expect("\(error)".contains("ecr:GetAuthorizationToken"))
        }
    }

    @Test func invalidSessionTokenAndWrongSecretAreSaidPlainly() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        let sts = STSClient(context: Self.context(moto, Self.userCredentials(moto)))
        let role = try await sts.assumeRole(.init(roleArn: moto.roleArn))
        let forged = Credentials(
            accessKeyId: role.credentials.accessKeyId, secretAccessKey: role.credentials.secretAccessKey,
            sessionToken: "FQoGZXIvYXdzEForgedToken")
        do {
            _ = try await ECRClient(context: Self.context(moto, forged)).getAuthorizationToken()
            Issue.record("a forged session token must be refused")
        } catch let error as AWSError {
            #expect(["UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException"].contains(error.code ?? ""))
            #expect(!"\(error)".contains("FQoGZXIvYXdzEForgedToken"))
        }
        let wrong = Credentials(accessKeyId: moto.userAccessKeyId, secretAccessKey: "not-the-secret")
        do {
            _ = try await STSClient(context: Self.context(moto, wrong)).getCallerIdentity()
            Issue.record("a wrong secret must be refused")
        } catch let error as AWSError {
            #expect(error.code == "SignatureDoesNotMatch")
            #expect("\(error)".contains("secret access key does not match"))
        }
    }

    @Test func inputIsCheckedBeforeAnyRequest() async throws {
        // Nothing listens on this endpoint: only validation can answer.
        let context = AWSContext(
            region: "us-east-1", endpoints: EndpointConfiguration(globalURL: "http://127.0.0.1:9"),
            credentialProvider: StaticCredentialProvider(Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x"), source: "test"))
        await #expect(throws: STSError.self) { try await STSClient(context: context).assumeRole(.init(roleArn: "arn:aws:iam::1:role/x")) }
        await #expect(throws: ECRError.self) { try await ECRClient(context: context).getAuthorizationToken(registryIds: ["12"]) }
        await #expect(throws: ECRError.self) { try await ECRClient(context: context).createRepository(name: "Bad Name") }
        #expect(ECRValidation.isRepositoryName("team/app-1.x_y"))
        #expect(!ECRValidation.isRepositoryName("team//app"))
        #expect(!ECRValidation.isRepositoryName("-app"))
        #expect(ECRValidation.isImageTag("v1.2.3_rc-1"))
        #expect(!ECRValidation.isImageTag(".hidden"))
        #expect(!ECRValidation.isImageTag(String(repeating: "a", count: 129)))
    }

    @Test func tokenDecoding() throws {
        let token = Data("AWS:secret-password".utf8).base64EncodedString()
        let login = try RegistryAuthorization.decode(
            token: token, proxyEndpoint: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",
            expiresAt: nil)
        #expect(login.username == "AWS")
        #expect(login.password == "secret-password")
        #expect(login.registry == "123456789012.dkr.ecr.us-east-1.amazonaws.com")
        #expect(throws: ECRError.self) { try RegistryAuthorization.decode(token: "!!", proxyEndpoint: "x", expiresAt: nil) }
        #expect(throws: ECRError.self) {
            try RegistryAuthorization.decode(token: Data("nocolon".utf8).base64EncodedString(), proxyEndpoint: "x", expiresAt: nil)
        }
    }
}
