import AWSCore
import ChildProcess
import Foundation
import SigV4
import Synchronization

/// A profile's `credential_process`: the command runs through `/bin/sh -c` (as the SDKs do) with the resolution's
/// environment and no stdin, and prints
/// `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}` on stdout.
/// Nothing secret is ever put on its command line; its stdout is never shown (it holds the secret).
package struct ProcessCredentialProvider: CredentialProvider {
    package let command: String
    package let environment: [String: String]
    package let source: String

    package init(command: String, environment: [String: String], source: String) {
        self.command = command
        var environment = environment
        // A fake or minimal environment still needs a PATH for the shell to find anything.
        if environment["PATH"] == nil { environment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        self.environment = environment
        self.source = source
    }

    package func credentials() async throws -> Credentials {
        let result = try await Self.run(command: command, environment: environment, source: source)
        guard result.status == 0 else {
            let stderr = String(decoding: result.stderr.prefix(2000), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            throw AWSError.credentialProviderFailed(
                source: source,
                detail: "credential_process exited with status \(result.status)" + (stderr.isEmpty ? " and printed nothing on stderr" : ": \(stderr)")
            )
        }
        let (credentials, document) = try CredentialsDocument.parse(Array(result.stdout), tokenKey: "SessionToken", source: source)
        guard let version = document["Version"] as? Int, version == 1 else {
            throw AWSError.credentialProviderFailed(
                source: source, detail: "credential_process printed JSON without \"Version\": 1 (the only version the SDKs define)")
        }
        return credentials
    }

    struct Output: Sendable {
        var status: Int32
        var stdout: Data
        var stderr: Data
    }

    /// Runs the command on a thread of its own (waiting for a child must not block Swift's cooperative pool).
    static func run(command: String, environment: [String: String], source: String) async throws -> Output {
        do {
            let result = try await ChildProcess.run("/bin/sh", arguments: ["-c", command], environment: environment)
            return Output(status: result.status, stdout: Data(result.stdout), stderr: Data(result.stderr))
        } catch let error as ChildProcess.LaunchError {
            throw AWSError.credentialProviderFailed(source: source, detail: "could not start /bin/sh for credential_process: \(error.reason)")
        }
    }
}
