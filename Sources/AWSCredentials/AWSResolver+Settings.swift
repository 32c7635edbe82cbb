import AWSCore
import HTTPTransport

extension AWSResolver {
    /// Checks every setting `resolve` would use that can be checked without a request, as the SDKs check them:
    /// the role flags, `AWS_MAX_ATTEMPTS` and `AWS_RETRY_MODE`, the chosen profile, the role ARN, session name
    /// and duration of the credential source that will be used (`AWS_IAM_ROLE_ARN`, `AWS_ROLE_ARN`, a profile's
    /// `role_arn` and `duration_seconds`), and the region the flag, environment or profile names.
    /// Throws only bad input (`AWSError.isInvalidInput`): missing credentials or region, or a source that fails
    /// when used, are `resolve`'s to report (instance metadata may still answer).
    /// Reads the environment and files; sends nothing.
    package static func checkSettings(_ input: AWSResolutionInput) throws(AWSError) {
        try validateRoleFlags(input)
        _ = try RetryPolicy.fromEnvironment(input.environment)
        let files = SharedConfigLoader(environment: input.environment, homeDirectory: input.homeDirectory)
        let profile = ProfileSelection(input: input)
        try inputErrorsOnly { () throws(AWSError) in
            if let namedBy = profile.namedBy { _ = try files.requireProfile(profile.name, namedBy: namedBy) }
        }
        // Choosing a source builds its provider without calling it.
        try inputErrorsOnly { () throws(AWSError) in
            _ = try CredentialChain(input: input, files: files, profile: profile, http: HTTPClient(), debug: nil).select()
        }
        try inputErrorsOnly { () throws(AWSError) in _ = try RegionResolver.configured(input: input, profile: profile, files: files) }
    }

    /// Each step on its own: no credentials must not hide a malformed region.
    private static func inputErrorsOnly(_ step: () throws(AWSError) -> Void) throws(AWSError) {
        do throws(AWSError) {
            try step()
        } catch  where error.isInvalidInput {
            throw error
        } catch {
            // Not bad input: `resolve` says it, with exit 1.
        }
    }
}
