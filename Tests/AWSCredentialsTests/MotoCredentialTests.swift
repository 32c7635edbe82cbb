import AWSCore
import AWSCredentials
import Foundation
import STS
import TestWorld
import Testing

/// The chain against moto with SigV4 signature and IAM checks (tools/motoworld.py): role credentials really
/// come from STS, and STS says who they belong to.
@Suite struct MotoCredentialTests {
    private func callerArn(_ resolved: ResolvedAWS) async throws -> String {
        try await STSClient(context: resolved.context).getCallerIdentity().arn
    }

    private func assumedRoleArn(_ moto: MotoWorld, session: String) -> String {
        "arn:aws:sts::\(moto.accountId):assumed-role/\(moto.roleArn.split(separator: "/").last!)/\(session)"
    }

    @Test func containeriseEnvironmentAssumesTheRole() async throws {
        let moto = try await MotoWorld.shared()
        let home = try FakeHome()
        let resolved = try await resolve(home.input(moto.containeriseEnvironment))
        let credentials = try await resolved.context.credentialProvider.credentials()
        #expect(credentials.sessionToken != nil)
        #expect(credentials.expiration != nil)
        #expect(try await callerArn(resolved) == assumedRoleArn(moto, session: "AssumeRoleSession1"))
    }

    @Test func roleSessionNameFlagNamesTheContaineriseSession() async throws {
        let moto = try await MotoWorld.shared()
        let home = try FakeHome()
        var input = home.input(
            [
                "AWS_IAM_USER_ACCESS_KEY_ID": moto.userAccessKeyId,
                "AWS_IAM_USER_SECRET_ACCESS_KEY": moto.userSecretAccessKey,
                "AWS_IAM_ROLE_ARN": moto.roleArn,
                "AWS_IAM_ROLE_SESSION_NAME": "from-env",
                "AWS_ENDPOINT_URL": moto.endpoint.absoluteString
            ], region: moto.region)
        input.roleSessionName = "from-flag"
        #expect(try await callerArn(try await resolve(input)) == assumedRoleArn(moto, session: "from-flag"))
    }

    @Test func profileWithRoleAndSourceProfileAssumesTheRole() async throws {
        let moto = try await MotoWorld.shared()
        let home = try FakeHome(
            config: """
                [profile pusher]
                role_arn = \(moto.roleArn)
                source_profile = ci
                role_session_name = profile-session
                region = \(moto.region)
                """,
            credentials: """
                [ci]
                aws_access_key_id = \(moto.userAccessKeyId)
                aws_secret_access_key = \(moto.userSecretAccessKey)
                """)
        let resolved = try await resolve(
            home.input(
                ["AWS_ENDPOINT_URL_STS": moto.endpoint.absoluteString, "AWS_REGION": ""],
                profile: "pusher"))
        #expect(resolved.regionSource.hasPrefix("profile 'pusher'"))
        #expect(try await callerArn(resolved) == assumedRoleArn(moto, session: "profile-session"))
    }

    @Test func roleArnFlagIsAssumedOnTopOfTheChain() async throws {
        let moto = try await MotoWorld.shared()
        let home = try FakeHome()
        let resolved = try await resolve(
            home.input(
                [
                    "AWS_ACCESS_KEY_ID": moto.userAccessKeyId, "AWS_SECRET_ACCESS_KEY": moto.userSecretAccessKey,
                    "AWS_ENDPOINT_URL": moto.endpoint.absoluteString, "AWS_REGION": moto.region
                ], roleArn: moto.roleArn))
        let arn = try await callerArn(resolved)
        #expect(arn.hasPrefix("arn:aws:sts::\(moto.accountId):assumed-role/ecr-pusher/ecrpush-"))
    }

    @Test func wrongSecretKeyIsASignatureError() async throws {
        let moto = try await MotoWorld.shared()
        let home = try FakeHome()
        let resolved = try await resolve(
            home.input([
                "AWS_IAM_USER_ACCESS_KEY_ID": moto.userAccessKeyId,
                "AWS_IAM_USER_SECRET_ACCESS_KEY": "not-the-secret-" + String(moto.userSecretAccessKey.prefix(4)),
                "AWS_IAM_ROLE_ARN": moto.roleArn,
                "AWS_ENDPOINT_URL": moto.endpoint.absoluteString,
                "AWS_REGION": moto.region
            ]))
        let error = try #require(await awsError { _ = try await resolved.context.credentialProvider.credentials() })
        #expect(error.code == "SignatureDoesNotMatch")
        #expect("\(error)".contains("AssumeRole"))
        #expect(!"\(error)".contains(moto.userSecretAccessKey))
    }

    @Test func webIdentityThroughMoto() async throws {
        // AssumeRoleWithWebIdentity is unsigned, which motoworld (rightly) refuses for every other call:
        // this one goes to a plain moto without authentication.
        let server = try await FixtureServer.start("plain_moto.py")
        defer { server.stop() }
        let endpoint = try #require(server.ready["endpoint"])
        let home = try FakeHome()
        func base64URL(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let jwt =
            base64URL(#"{"alg":"RS256","typ":"JWT"}"#) + "."
            + base64URL(
                #"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:acme/app:ref:refs/heads/main","aud":"sts.amazonaws.com","#
                    + #""exp":4102444800}"#
            )
            + "." + base64URL("signature")
        let tokenFile = try home.file("gha.jwt", jwt + "\n")
        let role = "arn:aws:iam::123456789012:role/gha-pusher"
        let resolved = try await resolve(
            home.input([
                "AWS_WEB_IDENTITY_TOKEN_FILE": tokenFile, "AWS_ROLE_ARN": role, "AWS_ROLE_SESSION_NAME": "gha-run",
                "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1"
            ]))
        let credentials = try await resolved.context.credentialProvider.credentials()
        #expect(credentials.sessionToken != nil)
        #expect(try await callerArn(resolved) == "arn:aws:sts::123456789012:assumed-role/gha-pusher/gha-run")
    }
}
