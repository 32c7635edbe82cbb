import AWSCredentials
import ECR
import Foundation

/// What a `--registry` value or a docker server URL stands for: an ECR registry host, ECR Public, a section of
/// ecrpush's config file (named by a host or an alias), or nothing ecrpush knows.
package struct RegistryTarget: Sendable, Equatable {
    /// As given (lowercased host[:port], or the alias).
    package var name: String
    /// The ECR host the name (or the section's registry_endpoint) parses as.
    package var host: RegistryHost?
    /// The config section for it.
    package var profile: RegistryProfile?

    package init(name: String, host: RegistryHost?, profile: RegistryProfile?) {
        self.name = name
        self.host = host
        self.profile = profile
    }

    /// The section named `text` exactly (an alias or a host), else the one for its host[:port] or
    /// registry_endpoint; the ECR host is parsed from `text`, else from the section's registry_endpoint.
    package static func resolve(_ text: String, in profiles: RegistryProfiles) -> RegistryTarget {
        let profile = profiles.profile(named: text) ?? profiles.profile(for: text)
        let host = RegistryHost.parse(text) ?? profile?.registryEndpoint.flatMap(RegistryHost.parse)
        let name = looksLikeHost(text) ? RegistryHost.hostAndPort(of: text) : text.lowercased()
        return RegistryTarget(name: name, host: host, profile: profile)
    }

    /// Whether ecrpush can get a login for it: an ECR host, or a configured section.
    package var isKnown: Bool { host != nil || profile != nil }

    /// ECR Public: `public.ecr.aws`, or a section whose registry_endpoint is it.
    package var isPublic: Bool { host?.isPublic ?? false }

    /// The account whose registry this is: the section's registry_id, else the host's; nil for ECR Public and
    /// for a section without one (the caller's own registry).
    package var registryId: String? { isPublic ? nil : profile?.registryId ?? host?.accountId }

    /// A registry lives in one region: the section's, else the host's.
    package var region: String? { profile?.region ?? host?.region }

    /// The registry as docker names it (where images are tagged and pushed, and the host a login is written
    /// for): the section's registry_endpoint, else the name when it is a host; nil for an alias without an
    /// endpoint (the token's own registry).
    package var dockerRegistry: String? {
        if let endpoint = profile?.registryEndpoint { return endpoint }
        return Self.looksLikeHost(name) ? name : nil
    }

    /// Fills in what the section and host say, leaving what the caller set (command-line flags) alone, except
    /// the region: a registry's region is a fact, not a preference. FIPS hosts get FIPS endpoints.
    package func apply(to input: inout AWSResolutionInput) {
        input.environment.merge(host?.environmentOverrides ?? [:]) { $1 }
        if let region {
            input.region = region
            input.regionSource =
                profile?.region != nil
                ? "the [registry \(profile?.name ?? "")] section of ecrpush's config" : "the registry host \(host?.host ?? "")"
        }
        input.profile = input.profile ?? profile?.profile
        input.roleArn = input.roleArn ?? profile?.roleArn
        input.endpointURL = input.endpointURL ?? profile?.endpointURL
    }

    /// A host name has a dot or a port (`registry.example.com`, `localhost:5000`); an alias has neither.
    package static func looksLikeHost(_ text: String) -> Bool {
        text.contains(".") || text.contains(":") || RegistryHost.hostName(of: text) == "localhost"
    }
}
