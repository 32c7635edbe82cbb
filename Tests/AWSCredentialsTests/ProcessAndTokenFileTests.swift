import AWSCore
import AWSCredentials
import Foundation
import Testing

/// credential_process with real scripts, and web identity token files that are missing or empty.
@Suite struct ProcessCredentialTests {
    @Test func processOutputBecomesCredentials() async throws {
        let home = try FakeHome()
        let script = try home.file(
            "creds.sh",
            """
            #!/bin/sh
            # The environment given to the resolution reaches the process.
            cat <<EOF
            {"Version": 1, "AccessKeyId": "AKIA$KEY_SUFFIX", "SecretAccessKey": "proc-secret",
             "SessionToken": "proc-token", "Expiration": "2099-01-02T03:04:05Z"}
            EOF
            """, executable: true)
        try home.file(".aws/config", "[profile proc]\ncredential_process = \(script) --some-arg\n")
        let resolved = try await resolve(home.input(["KEY_SUFFIX": "PROC"], profile: "proc"))
        #expect(resolved.credentialSource.description == "profile 'proc' (credential_process)")
        let credentials = try await resolved.context.credentialProvider.credentials()
        #expect(credentials.accessKeyId == "AKIAPROC")
        #expect(credentials.secretAccessKey == "proc-secret")
        #expect(credentials.sessionToken == "proc-token")
        #expect(credentials.expiration == Timestamps.parseISO8601("2099-01-02T03:04:05Z"))
    }

    @Test func failingProcessReportsItsStatusAndStderr() async throws {
        let home = try FakeHome(config: "[profile proc]\ncredential_process = sh -c 'echo token expired, run login >&2; exit 3'\n")
        let resolved = try await resolve(home.input(profile: "proc"))
        let error = try #require(await awsError { _ = try await resolved.context.credentialProvider.credentials() })
        #expect("\(error)".contains("status 3"))
        #expect("\(error)".contains("token expired, run login"))
    }

    @Test func badOutputIsReportedWithoutEchoingIt() async throws {
        let home = try FakeHome(
            config: """
                [profile notjson]
                credential_process = echo SECRETSECRET
                [profile noversion]
                credential_process = echo '{"AccessKeyId": "A", "SecretAccessKey": "SECRETSECRET"}'
                [profile nosecret]
                credential_process = echo '{"Version": 1, "AccessKeyId": "A"}'
                """)
        for (profile, expected) in [("notjson", "not a JSON object"), ("noversion", "Version"), ("nosecret", "SecretAccessKey")] {
            let resolved = try await resolve(home.input(profile: profile))
            let error = try #require(await awsError { _ = try await resolved.context.credentialProvider.credentials() })
            #expect("\(error)".contains(expected), "\(profile): \(error)")
            #expect(!"\(error)".contains("SECRETSECRET"))
        }
    }

    @Test func credentialsWithoutExpirationAreFetchedOnce() async throws {
        let home = try FakeHome()
        let counter = home.path + "/count"
        try home.file(
            ".aws/config",
            """
            [profile proc]
            credential_process = sh -c 'echo run >> \(counter); echo "{\\"Version\\": 1, \\"AccessKeyId\\": \\"A\\", \\"SecretAccessKey\\": \\"B\\"}"'
            """)
        let provider = try await resolve(home.input(profile: "proc")).context.credentialProvider
        _ = try await provider.credentials()
        _ = try await provider.credentials()
        let runs = try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count
        #expect(runs == 1)
    }

    @Test func expiringCredentialsAreFetchedAgain() async throws {
        let home = try FakeHome()
        let counter = home.path + "/count"
        // Expires in 60 s: inside the 5-minute refresh margin, so every call asks the process again.
        let soon = Timestamps.formatISO8601(Date().addingTimeInterval(60))
        try home.file(
            ".aws/config",
            """
            [profile proc]
            credential_process = sh -c 'echo run >> \(counter); echo "{\\"Version\\": 1, \\"AccessKeyId\\": \\"A\\",\
             \\"SecretAccessKey\\": \\"B\\", \\"Expiration\\": \\"\(soon)\\"}"'
            """)
        let provider = try await resolve(home.input(profile: "proc")).context.credentialProvider
        _ = try await provider.credentials()
        _ = try await provider.credentials()
        let runs = try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count
        #expect(runs == 2)
    }
}

@Suite struct WebIdentityTokenFileTests {
    static let env = [
        "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/oidc",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9"
    ]

    @Test func missingTokenFileIsNamed() async throws {
        let home = try FakeHome()
        let path = home.path + "/absent.jwt"
        let resolved = try await resolve(home.input(Self.env.merging(["AWS_WEB_IDENTITY_TOKEN_FILE": path]) { $1 }))
        let error = try #require(await awsError { _ = try await resolved.context.credentialProvider.credentials() })
        #expect("\(error)".contains(path))
        #expect("\(error)".contains("does not exist"))
    }

    @Test func emptyTokenFileIsNamed() async throws {
        let home = try FakeHome()
        let path = try home.file("empty.jwt", "\n")
        let resolved = try await resolve(home.input(Self.env.merging(["AWS_WEB_IDENTITY_TOKEN_FILE": path]) { $1 }))
        let error = try #require(await awsError { _ = try await resolved.context.credentialProvider.credentials() })
        #expect("\(error)".contains(path))
        #expect("\(error)".contains("is empty"))
    }

    @Test func sessionNameComesFromTheEnvironmentAndIsValidated() async throws {
        let home = try FakeHome()
        let path = try home.file("t.jwt", "a.b.c")
        let env = Self.env.merging(["AWS_WEB_IDENTITY_TOKEN_FILE": path, "AWS_ROLE_SESSION_NAME": "bad name!"]) { $1 }
        let error = try #require(await resolutionError(home.input(env)))
        #expect("\(error)".contains("AWS_ROLE_SESSION_NAME"))
    }
}
