import AWSCore
import AWSCredentials
import Foundation
import HTTPTransport
import TestWorld
import Testing

/// A fake home directory with `.aws/config` and `.aws/credentials` written by the test; removed with the value.
final class FakeHome: Sendable {
    let directory: TemporaryDirectory
    var path: String { directory.path }
    var configPath: String { path + "/.aws/config" }
    var credentialsPath: String { path + "/.aws/credentials" }

    init(config: String? = nil, credentials: String? = nil) throws {
        directory = TemporaryDirectory(prefix: "creds")
        try FileManager.default.createDirectory(atPath: path + "/.aws", withIntermediateDirectories: true)
        if let config { try write(config, to: configPath) }
        if let credentials { try write(credentials, to: credentialsPath) }
    }

    /// Writes `contents` to `name` under the home directory and returns its path.
    @discardableResult
    func file(_ name: String, _ contents: String, executable: Bool = false) throws -> String {
        let path = self.path + "/" + name
        if executable {
            try writeExecutable(contents, to: path)
        } else {
            try write(contents, to: path)
        }
        return path
    }

    private func write(_ contents: String, to path: String) throws {
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Input with `environment` on top of an isolated base: IMDS off, a region set, nothing from this machine.
    func input(
        _ environment: [String: String] = [:], profile: String? = nil, region: String? = nil,
        roleArn: String? = nil
    ) -> AWSResolutionInput {
        AWSResolutionInput(
            environment: isolated(environment), homeDirectory: path, profile: profile, region: region,
            roleArn: roleArn)
    }
}

/// `extra` over a base that keeps the machine out of the test: IMDS disabled, region given.
func isolated(_ extra: [String: String]) -> [String: String] {
    ["AWS_EC2_METADATA_DISABLED": "true", "AWS_REGION": "us-east-1", "PATH": "/usr/bin:/bin"]
        .merging(extra) { _, new in new }
}

func resolve(_ input: AWSResolutionInput, http: HTTPClient = HTTPClient()) async throws -> ResolvedAWS {
    try await AWSResolver.resolve(input, http: http, debug: nil)
}

/// The `AWSError` that `body` throws, or nil (recording an issue) when it throws something else or nothing.
func awsError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> AWSError? {
    do {
        try await body()
        Issue.record("expected an AWSError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as AWSError {
        return error
    } catch {
        Issue.record("expected an AWSError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

func resolutionError(_ input: AWSResolutionInput, sourceLocation: SourceLocation = #_sourceLocation) async -> AWSError? {
    await awsError({ _ = try await resolve(input) }, sourceLocation: sourceLocation)
}

extension AWSError {
    var missingCredentialsSearched: [String]? {
        if case .missingCredentials(let searched) = self { return searched }
        return nil
    }
}
