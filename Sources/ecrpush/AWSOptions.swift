import AWSCore
import AWSCredentials
import ArgumentParser
import ECR
import ECRLogin
import ECRPushKit
import Foundation
import HTTPTransport
import STS

/// Options every AWS-facing command shares: where credentials, region and endpoints come from.
struct AWSOptions: ParsableArguments {
    @Option(help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, instance metadata).")
    var region: String?

    @Option(help: "Named profile from the shared config and credentials files (default: AWS_PROFILE, then 'default').")
    var profile: String?

    @Option(help: ArgumentHelp("Send every AWS request to this endpoint (as AWS_ENDPOINT_URL).", valueName: "url"))
    var endpointURL: String?

    @Option(help: ArgumentHelp("Assume this IAM role on top of the credentials found.", valueName: "arn"))
    var roleArn: String?

    @Option(help: "Session name for --role-arn (and for AWS_IAM_ROLE_ARN; default AssumeRoleSession1).")
    var roleSessionName: String?

    @Option(help: "External id for --role-arn.")
    var externalId: String?

    @Option(help: ArgumentHelp("Duration of the assumed role's session, in seconds (900-43200).", valueName: "seconds"))
    var duration: Int?

    @Option(help: ArgumentHelp("MFA device serial (ARN) for roles that require MFA.", valueName: "arn"))
    var mfaSerial: String?

    @Option(help: ArgumentHelp("Current MFA code, for profiles or roles that require MFA.", valueName: "code"))
    var mfaTokenCode: String?

    @Flag(help: "Print every request and response on stderr, with secrets redacted, each line timed from the start.")
    var debug = false

    func validate() throws {
        if let roleArn, !STSValidation.isRoleARN(roleArn) {
            throw ValidationError("--role-arn " + STSError.invalidRoleARN(roleArn).description)
        }
        if let roleSessionName, !STSValidation.isSessionName(roleSessionName) {
            throw ValidationError(STSError.invalidSessionName(roleSessionName).description)
        }
        if let duration, !(900...43200).contains(duration) {
            throw ValidationError(STSError.invalidDuration(duration).description)
        }
        if let region, !Partition.isValidRegionName(region) {
            throw ValidationError(
                "--region \(InputEcho.quoted(region)) is not an AWS region name: expected lowercase letters, digits and hyphens such as us-east-1")
        }
        if let endpointURL, !(endpointURL.hasPrefix("https://") || endpointURL.hasPrefix("http://")) {
            throw ValidationError("--endpoint-url must start with https:// or http://")
        }
    }

    /// Each line says how long the command has run, so that `--debug` also shows where the time goes.
    var debugLog: DebugLog? {
        debug ? DebugLog { Console.err("[debug +\(Console.elapsed)] " + $0) } : nil
    }

    /// With a `--registry` target, its config section and host fill in what no flag says (and its region, FIPS
    /// endpoints for FIPS hosts).
    func resolve(http: HTTPClient, for target: RegistryTarget? = nil) async throws -> ResolvedAWS {
        try await AWSResolver.resolve(resolutionInput(for: target), http: http, debug: debugLog)
    }

    /// The settings the AWS SDKs check (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, role ARNs, durations, the region) for
    /// each target the command will use (nil: none), before any request: bad ones are a usage error (exit 64),
    /// said plainly; a usage synopsis would not help with a variable or a config file.
    func checkSettings(for targets: [RegistryTarget?]) throws {
        for target in targets {
            do {
                try AWSResolver.checkSettings(resolutionInput(for: target))
            } catch {
                Console.err("ecrpush: error: \(error.description)")
                throw ExitCode.validationFailure
            }
        }
    }

    private func resolutionInput(for target: RegistryTarget?) -> AWSResolutionInput {
        var input = AWSResolutionInput(environment: ProcessInfo.processInfo.environment, homeDirectory: homeDirectory())
        input.profile = profile
        input.region = region
        input.endpointURL = endpointURL
        input.roleArn = roleArn
        input.roleSessionName = roleSessionName
        input.externalId = externalId
        input.durationSeconds = duration
        input.mfaSerial = mfaSerial
        input.mfaTokenCode = mfaTokenCode
        target?.apply(to: &input)
        return input
    }
}

/// Registry ids are account ids; checked before any request.
func validateRegistryIds(_ ids: [String]) throws {
    for id in ids where !ECRValidation.isRegistryId(id) {
        throw ValidationError(ECRError.invalidRegistryId(id).description)
    }
}
