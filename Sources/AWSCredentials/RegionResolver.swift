import AWSCore

/// The region, as the SDKs find it: `--region`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`,
/// then the EC2 instance's own region from IMDS (skipped when `AWS_EC2_METADATA_DISABLED=true`).
/// Every value is checked to be a region name before it is used in a host name.
enum RegionResolver {
    struct Resolution: Sendable {
        var region: String
        var source: String
    }

    enum Outcome {
        case found(Resolution)
        /// Nothing configured; `imdsUnreachable` tells whether IMDS was asked and nothing answered.
        case missing(searched: [String], imdsUnreachable: Bool)
    }

    static func resolve(
        input: AWSResolutionInput, profile: ProfileSelection, files: SharedConfigLoader,
        imds: IMDSClient?
    ) async throws(AWSError) -> Outcome {
        var searched: [String]
        switch try configured(input: input, profile: profile, files: files) {
        case .found(let found): return .found(found)
        case .missing(let configuredPlaces, _): searched = configuredPlaces
        }
        guard let imds else {
            searched.append("EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)")
            return .missing(searched: searched, imdsUnreachable: false)
        }
        switch await imds.region() {
        case .found(let region):
            return .found(try checked(region, source: "EC2 instance metadata (\(imds.endpoint))"))
        case .unavailable(let detail, let unreachable):
            searched.append("EC2 instance metadata at \(imds.endpoint) (\(detail))")
            return .missing(searched: searched, imdsUnreachable: unreachable)
        }
    }

    /// The region the flag, the environment or the profile names, checked; no request is made (instance
    /// metadata is `resolve`'s last resort), so a malformed region is refused before anything is sent.
    static func configured(input: AWSResolutionInput, profile: ProfileSelection, files: SharedConfigLoader) throws(AWSError) -> Outcome {
        let env = EnvironmentReader(input.environment)
        if let flag = input.region, !flag.isEmpty {
            return .found(try checked(flag, source: input.regionSource ?? "--region"))
        }
        for variable in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let value = env[variable] { return .found(try checked(value, source: variable)) }
        }
        var searched = ["--region", "AWS_REGION", "AWS_DEFAULT_REGION"]

        let config = try files.load()
        if let found = config.profile(named: profile.name), let region = found.value("region") {
            return .found(try checked(region, source: SharedConfigLoader.describe(found)))
        }
        searched.append("profile '\(profile.name)' in \(config.configPath) and \(config.credentialsPath)")
        return .missing(searched: searched, imdsUnreachable: false)
    }

    private static func checked(_ region: String, source: String) throws(AWSError) -> Resolution {
        guard Partition.isValidRegionName(region) else {
            throw AWSError.invalidParameter(
                name: "region (from \(source))", value: region,
                expected: "a region name such as us-east-1 or eu-west-3 (lowercase letters, digits and hyphens)")
        }
        return Resolution(region: region, source: source)
    }
}
