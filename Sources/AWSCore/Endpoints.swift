/// The AWS services ecrpush talks to, with their signing names and endpoint host prefixes.
package struct ServiceID: Sendable, Hashable {
    /// Name used in SigV4's credential scope.
    package let signingName: String
    /// Host prefix: `https://<prefix>.<region>.<suffix>`.
    package let hostPrefix: String
    package let fipsHostPrefix: String
    /// The suffix of `AWS_ENDPOINT_URL_<ID>`.
    package let environmentID: String
    package let displayName: String

    package static let sts = ServiceID(
        signingName: "sts", hostPrefix: "sts", fipsHostPrefix: "sts-fips",
        environmentID: "STS", displayName: "STS")
    package static let ecr = ServiceID(
        signingName: "ecr", hostPrefix: "api.ecr", fipsHostPrefix: "ecr-fips",
        environmentID: "ECR", displayName: "ECR")
    package static let ecrPublic = ServiceID(
        signingName: "ecr-public", hostPrefix: "api.ecr-public",
        fipsHostPrefix: "api.ecr-public", environmentID: "ECR_PUBLIC",
        displayName: "ECR Public")
}

/// How endpoints are chosen: explicit URLs win, then the partition's regional (or FIPS) endpoint.
package struct EndpointConfiguration: Sendable {
    /// `--endpoint-url` or `AWS_ENDPOINT_URL`: every service goes there.
    package var globalURL: String?
    /// `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL_ECR`: per service, winning over `globalURL`.
    package var serviceURLs: [String: String]
    /// `AWS_USE_FIPS_ENDPOINT=true`.
    package var useFIPS: Bool

    package init(globalURL: String? = nil, serviceURLs: [String: String] = [:], useFIPS: Bool = false) {
        self.globalURL = globalURL
        self.serviceURLs = serviceURLs
        self.useFIPS = useFIPS
    }

    /// Reads `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_USE_FIPS_ENDPOINT`.
    package static func fromEnvironment(_ environment: [String: String]) -> EndpointConfiguration {
        var serviceURLs: [String: String] = [:]
        for (name, value) in environment where name.hasPrefix("AWS_ENDPOINT_URL_") && !value.isEmpty {
            serviceURLs[String(name.dropFirst("AWS_ENDPOINT_URL_".count))] = value
        }
        let global = environment["AWS_ENDPOINT_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let fips = environment["AWS_USE_FIPS_ENDPOINT"]?.lowercased() == "true"
        return EndpointConfiguration(globalURL: global, serviceURLs: serviceURLs, useFIPS: fips)
    }

    package func url(for service: ServiceID, region: String) -> String {
        if let explicit = serviceURLs[service.environmentID] ?? globalURL {
            return explicit.hasSuffix("/") ? String(explicit.dropLast()) : explicit
        }
        let partition = Partition.of(region: region)
        if service == .ecrPublic {
            return "https://api.ecr-public.\(region).amazonaws.com"
        }
        let prefix = useFIPS ? service.fipsHostPrefix : service.hostPrefix
        return "https://\(prefix).\(region).\(partition.dnsSuffix)"
    }
}
