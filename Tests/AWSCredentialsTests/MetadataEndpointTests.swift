import AWSCore
import AWSCredentials
import Foundation
import TestWorld
import Testing

/// IMDSv2 and the ECS container endpoint against a real loopback server (Fixtures/metadata_server.py) that
/// checks the IMDSv2 token and the ECS Authorization header.
@Suite(.serialized) struct IMDSCredentialTests {
    private func imdsInput(_ home: FakeHome, _ server: MetadataServer, _ extra: [String: String] = [:]) -> AWSResolutionInput {
        home.input(["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": server.url].merging(extra) { $1 })
    }

    @Test func instanceRoleCredentialsThroughIMDSv2() async throws {
        let server = try await MetadataServer.start(["--role", "ecr-builder"])
        defer { server.stop() }
        let home = try FakeHome()
        let resolved = try await resolve(imdsInput(home, server))
        let provider = resolved.context.credentialProvider
        let credentials = try await provider.credentials()
        #expect(credentials.accessKeyId.hasPrefix("ASIAIMDS"))
        #expect(credentials.sessionToken?.hasPrefix("imds-session-") == true)
        #expect(credentials.expiration != nil)
        #expect(provider.source == "EC2 instance role 'ecr-builder' (IMDSv2)")

        let stats = try await server.stats()
        #expect(stats["tokenPuts"] as? Int == 1)
        #expect(stats["lastTtlHeader"] as? String == "21600")
        #expect(stats["unauthorized"] as? Int == 0)

        // Cached while fresh: no new request.
        _ = try await provider.credentials()
        #expect(try await server.count("imdsCredentialGets") == 1)
    }

    @Test func credentialsCloseToExpiryAreRefreshed() async throws {
        let server = try await MetadataServer.start(["--expires-in", "120"])
        defer { server.stop() }
        let home = try FakeHome()
        let provider = try await resolve(imdsInput(home, server)).context.credentialProvider
        let first = try await provider.credentials()
        let second = try await provider.credentials()
        #expect(first.accessKeyId != second.accessKeyId)
        #expect(try await server.count("imdsCredentialGets") == 2)
    }

    /// As the chain's last resort, a refused token (an instance with IMDSv2 off, or another cloud's metadata service
    /// at the same address: GCP's answers 403, Azure's 400) means no credentials: every place looked at is said.
    @Test(arguments: [401, 403, 400])
    func refusedTokenIsNoCredentialsNotAnIMDSv1Fallback(status: Int) async throws {
        let server = try await MetadataServer.start(["--token-status", "\(status)"])
        defer { server.stop() }
        let home = try FakeHome()
        let provider = try await resolve(imdsInput(home, server)).context.credentialProvider
        let error = try #require(await awsError { _ = try await provider.credentials() })
        #expect("\(error)".contains("no AWS credentials found"), "\(error)")
        let searched = try #require(error.missingCredentialsSearched)
        #expect(searched.count == 6, "\(searched)")
        #expect(searched.last?.contains("token request answered HTTP \(status)") == true, "\(searched)")
        #expect(searched.last?.contains("IMDSv1 is not used") == true, "\(searched)")
        // Nothing was asked without a token.
        #expect(try await server.count("imdsCredentialGets") == 0)
    }

    @Test func instanceWithoutRoleMeansNoCredentials() async throws {
        let server = try await MetadataServer.start(["--no-role"])
        defer { server.stop() }
        let home = try FakeHome()
        let provider = try await resolve(imdsInput(home, server)).context.credentialProvider
        let error = try #require(await awsError { _ = try await provider.credentials() })
        let searched = try #require(error.missingCredentialsSearched)
        #expect(searched.last?.contains("no IAM role") == true)
        #expect(searched.count == 6)
    }

    @Test func unreachableIMDSMeansNoCredentialsQuickly() async throws {
        let home = try FakeHome()
        let port = try freePort()
        let input = home.input(["AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"])
        let start = Date()
        let provider = try await resolve(input).context.credentialProvider
        let error = try #require(await awsError { _ = try await provider.credentials() })
        #expect(Date().timeIntervalSince(start) < 5)
        let searched = try #require(error.missingCredentialsSearched)
        #expect(searched.last?.contains("not reachable") == true)
    }

    @Test func regionFromIMDSWhenNothingElseSetsOne() async throws {
        let server = try await MetadataServer.start(["--region", "ap-northeast-3"])
        defer { server.stop() }
        let home = try FakeHome()
        let resolved = try await resolve(imdsInput(home, server, ["AWS_REGION": "", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"]))
        #expect(resolved.context.region == "ap-northeast-3")
        #expect(resolved.regionSource == "EC2 instance metadata (\(server.url))")
    }

    @Test func nothingConfiguredOffEC2ReportsMissingCredentials() async throws {
        let home = try FakeHome()
        let port = try freePort()
        let input = home.input([
            "AWS_REGION": "", "AWS_EC2_METADATA_DISABLED": "",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:\(port)"
        ])
        let error = try #require(await resolutionError(input))
        #expect(error.missingCredentialsSearched?.last?.contains("not reachable") == true)
    }
}

@Suite(.serialized) struct ECSCredentialTests {
    @Test func fullURIWithAuthorizationToken() async throws {
        let server = try await MetadataServer.start(["--ecs-token", "ecs-auth-token"])
        defer { server.stop() }
        let home = try FakeHome()
        let url = server.url + "/ecs/credentials"
        let resolved = try await resolve(
            home.input([
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": url,
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ecs-auth-token"
            ]))
        #expect(resolved.credentialSource.description == "ECS container credentials (\(url))")
        let credentials = try await resolved.context.credentialProvider.credentials()
        #expect(credentials.accessKeyId.hasPrefix("ASIAECS"))
        #expect(credentials.sessionToken?.hasPrefix("ecs-session-") == true)
        #expect(credentials.expiration != nil)
        #expect(try await server.count("unauthorized") == 0)
    }

    @Test func authorizationTokenFileIsReadAndWins() async throws {
        let server = try await MetadataServer.start(["--ecs-token", "from-file"])
        defer { server.stop() }
        let home = try FakeHome()
        let tokenFile = try home.file("ecs-token", "from-file\n")
        let resolved = try await resolve(
            home.input([
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/ecs/credentials",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "from-env",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile
            ]))
        #expect(try await resolved.context.credentialProvider.credentials().accessKeyId.hasPrefix("ASIAECS"))
    }

    @Test func wrongTokenIsReportedWithoutIt() async throws {
        let server = try await MetadataServer.start(["--ecs-token", "right"])
        defer { server.stop() }
        let home = try FakeHome()
        let resolved = try await resolve(
            home.input([
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.url + "/ecs/credentials",
                "AWS_CONTAINER_AUTHORIZATION_TOKEN": "wrong-token-value"
            ]))
        let error = try #require(await awsError { _ = try await resolved.context.credentialProvider.credentials() })
        #expect("\(error)".contains("HTTP 401"))
        #expect("\(error)".contains("AccessDenied"))
        #expect(!"\(error)".contains("wrong-token-value"))
        #expect(try await server.count("unauthorized") == 1)
    }

    @Test func fullURIMustBeHTTPSOrLocal() async throws {
        let home = try FakeHome()
        for url in ["http://example.com/creds", "http://10.0.0.1/creds", "ftp://127.0.0.1/creds", "not a url"] {
            let error = try #require(await resolutionError(home.input(["AWS_CONTAINER_CREDENTIALS_FULL_URI": url])))
            #expect("\(error)".contains("AWS_CONTAINER_CREDENTIALS_FULL_URI"), "\(url)")
        }
        for url in [
            "https://creds.example.com/x", "http://127.0.0.2:80/x", "http://localhost/x", "http://[::1]:8080/x",
            "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials"
        ] {
            let resolved = try await resolve(home.input(["AWS_CONTAINER_CREDENTIALS_FULL_URI": url]))
            #expect(resolved.credentialSource.description.hasPrefix("ECS container credentials"), "\(url)")
        }
        let relative = try await resolve(home.input(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"]))
        #expect(relative.credentialSource.description == "ECS container credentials (http://169.254.170.2/v2/credentials/abc)")
    }

    @Test func tokenWithALineBreakIsRefused() async throws {
        let home = try FakeHome()
        let error = try #require(
            await resolutionError(
                home.input([
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1/x",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": "a\r\nX-Evil: 1"
                ])))
        #expect("\(error)".contains("line break"))
    }
}
