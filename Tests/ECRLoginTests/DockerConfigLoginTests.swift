import Foundation
import TestWorld
import Testing

@testable import ECRLogin

/// The login a docker config holds for a host, as BuildKit's session asks for it: `credHelpers`, then `credsStore`,
/// then `auths` (docker's own order), and Docker Hub under the key docker writes for it.
@Suite struct DockerConfigLoginTests {
    static func config(_ json: String) throws -> (TemporaryDirectory, DockerConfigFile) {
        let directory = TemporaryDirectory()
        try json.write(toFile: directory.path + "/config.json", atomically: true, encoding: .utf8)
        return (directory, DockerConfigFile(path: directory.path + "/config.json"))
    }

    /// `docker-credential-NAME` on a PATH of its own: answers for one server URL, "not found" for the others.
    static func helper(_ name: String, in directory: TemporaryDirectory, serverURL: String, username: String, secret: String) throws {
        let script = """
            #!/bin/sh
            read url
            if [ "$1" = get ] && [ "$url" = "\(serverURL)" ]; then
              printf '{"ServerURL":"%s","Username":"\(username)","Secret":"\(secret)"}\\n' "$url"; exit 0
            fi
            echo "credentials not found in native keychain"; exit 1
            """
        let path = directory.path + "/docker-credential-" + name
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    @Test func authsInEachForm() async throws {
        let basic = Data("alice:pa:ss".utf8).base64EncodedString()
        let (directory, file) = try Self.config(
            """
            {"auths": {
              "https://registry.example.com:5000/v1/": {"auth": "\(basic)"},
              "plain.example.com": {"username": "bob", "password": "pw"},
              "token.example.com": {"identitytoken": "tok"},
              "https://index.docker.io/v1/": {"auth": "\(Data("hub:hubpw".utf8).base64EncodedString())"}
            }}
            """)
        #expect(try await file.login(for: "registry.example.com:5000", environment: [:]) == DockerLogin(username: "alice", secret: "pa:ss"))
        #expect(try await file.login(for: "plain.example.com", environment: [:]) == DockerLogin(username: "bob", secret: "pw"))
        #expect(try await file.login(for: "token.example.com", environment: [:]) == DockerLogin(username: "", secret: "tok"))
        #expect(try await file.login(for: "registry-1.docker.io", environment: [:]) == DockerLogin(username: "hub", secret: "hubpw"))
        #expect(try await file.login(for: "registry.example.com", environment: [:]) == nil, "another port is another registry")
        #expect(try await file.login(for: "unknown.example.com", environment: [:]) == nil)
        #expect(try await DockerConfigFile(path: "/nonexistent/config.json").login(for: "x", environment: [:]) == nil)
        withExtendedLifetime(directory) {}
    }

    @Test func credentialHelpersAndStoreComeBeforeAuths() async throws {
        let bin = TemporaryDirectory()
        try Self.helper("one", in: bin, serverURL: "helped.example.com", username: "h", secret: "hs")
        try Self.helper("store", in: bin, serverURL: "stored.example.com", username: "<token>", secret: "identity")
        let (directory, file) = try Self.config(
            """
            {"credHelpers": {"helped.example.com": "one"}, "credsStore": "store",
             "auths": {"helped.example.com": {"username": "file", "password": "x"}, "other.example.com": {"username": "o", "password": "op"}}}
            """)
        let environment = ["PATH": bin.path + ":/usr/bin:/bin"]
        #expect(try await file.login(for: "helped.example.com", environment: environment) == DockerLogin(username: "h", secret: "hs"))
        #expect(try await file.login(for: "stored.example.com", environment: environment) == DockerLogin(username: "", secret: "identity"))
        // The store knows nothing of this one: the file's own entry is used, as docker does.
        #expect(try await file.login(for: "other.example.com", environment: environment) == DockerLogin(username: "o", secret: "op"))
        withExtendedLifetime(directory) {}
    }
}
