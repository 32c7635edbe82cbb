import ECRLogin
import Foundation
import TestWorld
import Testing

/// The docker-credential-helpers protocol, byte for byte, for the answers that need no AWS call.
@Suite struct CredentialHelperProtocolTests {
    func helper(_ environment: [String: String] = [:], home: String = "/nonexistent-home") -> CredentialHelper {
        CredentialHelper(environment: environment, homeDirectory: home, version: "9.9.9")
    }

    @Test func storeAndEraseDrainStdinAndKeepNothing() async {
        let store = await helper().run(action: "store", input: Data(#"{"ServerURL":"x","Username":"u","Secret":"s"}"#.utf8))
        #expect(store == CredentialHelperOutput(stdout: "", stderr: "", exitCode: 0))
        let erase = await helper().run(action: "erase", input: Data("x\n".utf8))
        #expect(erase == CredentialHelperOutput(stdout: "", stderr: "", exitCode: 0))
    }

    @Test func versionAndUsage() async {
        #expect(await helper().run(action: "version", input: Data()).stdout == "docker-credential-ecrpush (ecrpush) 9.9.9\n")
        let usage = await helper().run(action: "bogus", input: Data())
        #expect(usage.exitCode == 1)
        #expect(usage.stdout == "Usage: docker-credential-ecrpush <store|get|erase|list|version>\n")
        #expect(await helper().run(action: nil, input: Data()).exitCode == 1)
    }

    @Test func nonECRHostsAreNotFoundWithAPlainReasonOnStderr() async {
        let answer = await helper().run(action: "get", input: Data("https://index.docker.io/v1/\n".utf8))
        #expect(answer.exitCode == 1)
        #expect(answer.stdout == "credentials not found in native keychain\n")
        #expect(answer.stderr.contains("index.docker.io/v1/ is not an Amazon ECR registry host"))
        #expect(answer.stderr.contains("[registry index.docker.io]"))

        let lookAlike = await helper().run(action: "get", input: Data("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example".utf8))
        #expect(lookAlike.stdout == "credentials not found in native keychain\n")

        let publicECR = await helper().run(action: "get", input: Data("public.ecr.aws".utf8))
        #expect(publicECR.stdout == "credentials not found in native keychain\n")
        #expect(publicECR.stderr.contains("ECR Public"))
    }

    @Test func anECRHostWithoutCredentialsSaysWhyOnBothStreams() async {
        let answer = await helper([
            "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "ECRPUSH_NO_CACHE": "1"
        ])
        .run(action: "get", input: Data("123456789012.dkr.ecr.eu-west-1.amazonaws.com".utf8))
        #expect(answer.exitCode == 1)
        #expect(answer.stdout.contains("no AWS credentials found"))
        #expect(answer.stdout.hasSuffix("\n") && answer.stdout.filter { $0 == "\n" }.count == 1)
        #expect(answer.stderr.hasPrefix("docker-credential-ecrpush: error: "))
        #expect(answer.stderr.contains("123456789012"))
    }

    @Test func listNamesConfiguredAndCachedRegistries() async throws {
        let home = TemporaryDirectory()
        #expect(await helper(home: home.path).run(action: "list", input: Data()).stdout == "{}\n")
        try FileManager.default.createDirectory(atPath: home.path + "/.config/ecrpush", withIntermediateDirectories: true)
        try """
        [registry 127.0.0.1:5000]
        registry_id = 123456789012
        [registry 444455556666.dkr.ecr.eu-west-1.amazonaws.com]
        profile = prod
        """.write(toFile: home.path + "/.config/ecrpush/config", atomically: true, encoding: .utf8)
        let list = await helper(home: home.path).run(action: "list", input: Data())
        #expect(
            list
                == CredentialHelperOutput(
                    stdout: #"{"127.0.0.1:5000":"AWS","444455556666.dkr.ecr.eu-west-1.amazonaws.com":"AWS"}"# + "\n"))
    }

    @Test func malformedRegistryConfigNamesFileAndLine() async throws {
        let home = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: home.path + "/ecrpush", withIntermediateDirectories: true)
        try "[registry 127.0.0.1:5000]\nregistry_id = 12\n".write(toFile: home.path + "/ecrpush/config", atomically: true, encoding: .utf8)
        let answer = await helper(["XDG_CONFIG_HOME": home.path]).run(action: "get", input: Data("127.0.0.1:5000".utf8))
        #expect(answer.exitCode == 1)
        #expect(answer.stdout.contains(home.path + "/ecrpush/config:1"))
        #expect(answer.stdout.contains("registry_id '12'"))
    }

    @Test func registryProfilesMatchHostWithPortThenHost() throws {
        let text = """
            [registry 127.0.0.1:5000]
            registry_id = 123456789012
            endpoint_url = http://127.0.0.1:4566
            region = us-east-1
            [registry registry.example.com]
            registry_id = 444455556666
            role_arn = arn:aws:iam::444455556666:role/pusher
            [profile ignored]
            region = eu-west-1
            """
        let directory = TemporaryDirectory()
        try text.write(toFile: directory.path + "/config", atomically: true, encoding: .utf8)
        let profiles = try RegistryProfiles.load(path: directory.path + "/config")
        #expect(profiles.profiles.count == 2)
        #expect(profiles.profile(for: "http://127.0.0.1:5000/v2/")?.endpointURL == "http://127.0.0.1:4566")
        #expect(profiles.profile(for: "127.0.0.1:5001") == nil)
        #expect(profiles.profile(for: "https://Registry.Example.com:443")?.registryId == "444455556666")
        #expect(try RegistryProfiles.load(path: directory.path + "/missing").profiles.isEmpty)
    }

    @Test func jsonStringsAreEscapedAsGoDoes() {
        #expect(CredentialHelper.goJSONString("a\"b\\c") == #""a\"b\\c""#)
        #expect(CredentialHelper.goJSONString("<&>") == #""\u003c\u0026\u003e""#)
        #expect(CredentialHelper.goJSONString("x\ny\u{1}") == #""x\ny\u0001""#)
        #expect(CredentialHelper.goJSONString("ü") == "\"ü\"")
    }
}
