import Foundation
import TestWorld
import Testing

/// `[default] credential_helper`: store, erase, get and list for registries that are not ECR's go to another
/// docker credential helper; ECR registries stay ecrpush's. Also: a warm `get` with long-term keys makes no AWS call.
@Suite struct CredentialHelperDelegationTests {
    /// A docker credential helper in a few lines of shell: it appends "action:stdin" to a log, keeps one
    /// secret in a file, and fails for the server "broken.example".
    static func installFakeHelper(in directory: String) throws -> String {
        let log = directory + "/fake.log"
        let script = """
            #!/bin/sh
            input=$(cat)
            printf '%s:%s\\n' "$1" "$input" >> '\(log)'
            case "$1:$input" in
              *broken.example*) echo "fake helper: broken.example is broken"; echo "fake stderr" >&2; exit 3 ;;
              store:*) printf '%s' "$input" > '\(directory)/fake.stored' ;;
              get:*) cat '\(directory)/fake.stored' 2>/dev/null || { echo "credentials not found in native keychain"; exit 1; } ;;
              erase:*) rm -f '\(directory)/fake.stored' ;;
              list:*) printf '{"https://index.docker.io/v1/":"someone"}' ;;
            esac
            """
        let path = directory + "/docker-credential-fake"
        try writeExecutable(script, to: path)
        return log
    }

    @Test func storeEraseGetAndListAreDelegatedForOtherRegistries() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let setup = try HelperSetup(registry: registry, moto: moto)
        let log = try Self.installFakeHelper(in: setup.binDirectory)
        let config = setup.configHome + "/ecrpush/config"
        let ecrOnly = try String(contentsOfFile: config, encoding: .utf8)

        // Without the setting: accepted, nothing stored anywhere.
        let plain = try await setup.helper("store", stdin: #"{"ServerURL":"https://index.docker.io/v1/","Username":"u","Secret":"s"}"#)
        #expect(plain.status == 0 && plain.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: log))

        try (ecrOnly + "\n[default]\ncredential_helper = fake\n").write(toFile: config, atomically: true, encoding: .utf8)
        let stored = #"{"ServerURL":"https://index.docker.io/v1/","Username":"someone","Secret":"hunter2"}"#
        let store = try await setup.helper("store", stdin: stored)
        #expect(store.status == 0, "\(store.combinedText)")
        let got = try await setup.helper("get", stdin: "https://index.docker.io/v1/")
        #expect(got.status == 0 && got.stdoutText == stored, "\(got.combinedText)")
        let list = try await setup.helper("list", stdin: "")
        #expect(list.stdoutText == #"{"\#(registry.hostPort)":"AWS","https://index.docker.io/v1/":"someone"}"# + "\n", "\(list.combinedText)")

        // ECR's own registries are never handed over.
        let ecrStore = try await setup.helper("store", stdin: #"{"ServerURL":"\#(registry.hostPort)","Username":"AWS","Secret":"x"}"#)
        #expect(ecrStore.status == 0 && ecrStore.stdout.isEmpty)
        let ecrErase = try await setup.helper("erase", stdin: "123456789012.dkr.ecr.us-east-1.amazonaws.com")
        #expect(ecrErase.status == 0 && ecrErase.stdout.isEmpty)

        // The delegate's answer, exit status and stderr come back unchanged.
        let broken = try await setup.helper("erase", stdin: "broken.example")
        #expect(broken.status == 3)
        #expect(broken.stdoutText == "fake helper: broken.example is broken\n")
        #expect(broken.stderrText == "fake stderr\n")

        let erase = try await setup.helper("erase", stdin: "https://index.docker.io/v1/")
        #expect(erase.status == 0, "\(erase.combinedText)")
        let gone = try await setup.helper("get", stdin: "https://index.docker.io/v1/")
        #expect(gone.status == 1 && gone.stdoutText == "credentials not found in native keychain\n")

        let calls = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ":").first.map(String.init) ?? ""
        }
        #expect(calls == ["store", "get", "list", "erase", "erase", "get"], "\(calls)")
        #expect(try await moto.counts()["GetAuthorizationToken"] == nil, "nothing here asked ECR")

        try (ecrOnly + "\n[default]\ncredential_helper = missing\n").write(toFile: config, atomically: true, encoding: .utf8)
        let missing = try await setup.helper("store", stdin: stored)
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("docker-credential-missing is not on PATH"), "\(missing.combinedText)")
        try (ecrOnly + "\n[default]\ncredential_helper = ../evil\n").write(toFile: config, atomically: true, encoding: .utf8)
        let evil = try await setup.helper("store", stdin: stored)
        #expect(evil.status == 1 && evil.stderrText.contains("credential_helper '../evil' is not a helper name"), "\(evil.combinedText)")
    }

    /// An IAM user's keys name themselves: the second `get` is served from the cache without any AWS call
    /// (no GetCallerIdentity either).
    @Test func warmGetWithLongTermKeysMakesNoAWSCall() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let setup = try HelperSetup(registry: registry, moto: moto)
        let keys = ["AWS_ACCESS_KEY_ID": moto.adminAccessKeyId, "AWS_SECRET_ACCESS_KEY": moto.adminSecretAccessKey]
        // The dynamic loader's log of the libraries each run opened (LD_DEBUG_OUTPUT gets ".<pid>" appended).
        let loaderLogs = TemporaryDirectory()
        func get(_ name: String) async throws -> (ProcessResult, libraries: String) {
            let result = try await runProcess(
                setup.helperPath, ["get"],
                environment: setup.environment(
                    keys.merging(
                        ["LD_DEBUG": "files", "LD_DEBUG_OUTPUT": loaderLogs.path + "/" + name]) { $1 }),
                inheritEnvironment: false, stdin: Data(registry.hostPort.utf8))
            let logs = try FileManager.default.contentsOfDirectory(atPath: loaderLogs.path).filter { $0.hasPrefix(name + ".") }
            let text = try logs.map { try String(contentsOfFile: loaderLogs.path + "/" + $0, encoding: .utf8) }.joined()
            return (result, text)
        }
        let (first, coldLibraries) = try await get("cold")
        #expect(first.status == 0, "\(first.combinedText)")
        let cold = try await moto.counts()
        #expect(cold == ["GetAuthorizationToken": 1], "the cold get: one GetAuthorizationToken, no STS")
        #expect(coldLibraries.contains("libcurl.so.4"), "libcurl is loaded when a request is made")
        let (warm, warmLibraries) = try await get("warm")
        #expect(warm.stdout == first.stdout)
        #expect(try await moto.counts() == cold, "the warm get made no AWS call")
        #expect(
            !warmLibraries.isEmpty && !warmLibraries.contains("libcurl"),
            "a warm get never loads libcurl (and the ~30 libraries behind it)")
        let files = try FileManager.default.contentsOfDirectory(atPath: setup.cacheHome + "/ecrpush").filter { $0.hasSuffix(".json") }
        for file in files {
            let text = try String(contentsOfFile: setup.cacheHome + "/ecrpush/" + file, encoding: .utf8)
            #expect(!text.contains(moto.adminAccessKeyId) && !file.contains(moto.adminAccessKeyId))
        }
    }

    /// Session keys (as an assumed role or OIDC exchange leaves in the environment): the first get asks STS who
    /// they stand for, later gets remember it for the keys' lifetime and make no AWS call at all.
    @Test func warmGetWithSessionKeysMakesNoAWSCall() async throws {
        let registry = try await LoopbackRegistry.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let setup = try HelperSetup(registry: registry, moto: moto)
        // Temporary keys from a real AssumeRole (boto3, keys passed in its environment, never in argv).
        let script = """
            import boto3, json, sys
            c = boto3.client("sts", endpoint_url=sys.argv[1], region_name=sys.argv[2])
            r = c.assume_role(RoleArn=sys.argv[3], RoleSessionName="helper-test")["Credentials"]
            print(json.dumps([r["AccessKeyId"], r["SecretAccessKey"], r["SessionToken"]]))
            """
        let assumed = try await runProcess(
            "python3", ["-c", script, moto.endpoint.absoluteString, moto.region, moto.roleArn],
            environment: [
                "AWS_ACCESS_KEY_ID": moto.userAccessKeyId,
                "AWS_SECRET_ACCESS_KEY": moto.userSecretAccessKey,
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"
            ])
        try #require(assumed.status == 0, "\(assumed.combinedText)")
        let parts = try #require(try JSONSerialization.jsonObject(with: Data(assumed.stdoutText.utf8)) as? [String])
        let keys = ["AWS_ACCESS_KEY_ID": parts[0], "AWS_SECRET_ACCESS_KEY": parts[1], "AWS_SESSION_TOKEN": parts[2]]
        func get() async throws -> ProcessResult {
            try await runProcess(
                setup.helperPath, ["get"], environment: setup.environment(keys),
                inheritEnvironment: false, stdin: Data(registry.hostPort.utf8))
        }
        try await moto.resetCounts()
        let first = try await get()
        #expect(first.status == 0, "\(first.combinedText)")
        #expect(try await moto.counts() == ["GetCallerIdentity": 1, "GetAuthorizationToken": 1])
        let warm = try await get()
        #expect(warm.stdout == first.stdout)
        #expect(try await moto.counts() == ["GetCallerIdentity": 1, "GetAuthorizationToken": 1], "the warm get made no AWS call")
        let identities = try FileManager.default.contentsOfDirectory(atPath: setup.cacheHome + "/ecrpush").filter { $0.hasSuffix(".identity") }
        #expect(identities.count == 1)
        for name in identities {
            let path = setup.cacheHome + "/ecrpush/" + name
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(!text.contains(parts[0]) && !name.contains(parts[0]), "the key id never shows")
        }
    }
}
