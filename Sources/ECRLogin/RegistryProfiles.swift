import AWSCore
import Foundation
import STS

/// How to reach one registry, from a `[registry HOST-OR-ALIAS]` section of ecrpush's config file.
package struct RegistryProfile: Sendable, Equatable {
    /// The section's name: a registry host (with its port when it has one) or an alias.
    package var name: String
    /// AWS profile whose credentials get the token.
    package var profile: String?
    /// Role assumed on top of those credentials.
    package var roleArn: String?
    package var region: String?
    /// The account whose registry this is (GetAuthorizationToken's registryIds).
    package var registryId: String?
    /// The AWS API endpoint (as `--endpoint-url`).
    package var endpointURL: String?
    /// The registry itself, `host[:port]` (as push's `--registry`): where images named by an alias go, and a
    /// second name docker may ask the credential helper about.
    package var registryEndpoint: String?

    package init(
        name: String, profile: String? = nil, roleArn: String? = nil, region: String? = nil,
        registryId: String? = nil, endpointURL: String? = nil, registryEndpoint: String? = nil
    ) {
        self.name = name
        self.profile = profile
        self.roleArn = roleArn
        self.region = region
        self.registryId = registryId
        self.endpointURL = endpointURL
        self.registryEndpoint = registryEndpoint
    }
}

/// ecrpush's own config file, `$XDG_CONFIG_HOME/ecrpush/config` (default `~/.config/ecrpush/config`), in the
/// AWS shared-config INI dialect. One docker config can then serve several accounts, custom domains and
/// registries that are not ECR host names:
///
///     [registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com]
///     profile = prod
///
///     [registry registry.example.com]
///     registry_id = 444455556666
///     region = eu-west-1
///     role_arn = arn:aws:iam::444455556666:role/pusher
///
///     # an alias: `--registry prod`
///     [registry prod]
///     registry_id = 444455556666
///     registry_endpoint = registry.example.com:5000
///
///     # store/erase/get/list for other registries go to docker-credential-pass
///     [default]
///     credential_helper = pass
package struct RegistryProfiles: Sendable, Equatable {
    package let path: String
    package let profiles: [RegistryProfile]
    /// `[default] credential_helper`: the docker credential helper (`docker-credential-<name>`) that keeps
    /// logins for registries that are not ECR's; nil keeps store/erase no-ops.
    package let credentialHelper: String?

    package init(path: String, profiles: [RegistryProfile], credentialHelper: String? = nil) {
        self.path = path
        self.profiles = profiles
        self.credentialHelper = credentialHelper
    }

    package static func defaultPath(environment: [String: String], homeDirectory: String) -> String {
        if let base = environment["XDG_CONFIG_HOME"], base.hasPrefix("/") { return base + "/ecrpush/config" }
        return homeDirectory + "/.config/ecrpush/config"
    }

    /// The profiles of the config file at `path`; none when it does not exist. A malformed file or value is an
    /// error naming the file and line.
    package static func load(path: String) throws(AWSError) -> RegistryProfiles {
        guard let file = try SharedConfigFile.load(path: path) else { return RegistryProfiles(path: path, profiles: []) }
        var profiles: [RegistryProfile] = []
        var credentialHelper: String?
        for section in file.sections {
            if section.name == "default", let helper = section["credential_helper"] {
                guard isHelperName(helper) else {
                    throw .malformedConfigFile(
                        path: path, line: section.line,
                        detail:
                            "[default]: credential_helper '\(helper)' is not a helper name such as pass or secretservice (docker-credential-<name>; "
                            + "letters, digits, '.', '_', '-')"
                    )
                }
                credentialHelper = helper
            }
            let words = section.name.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard words.count == 2, words[0] == "registry", !words[1].isEmpty else { continue }
            let profile = RegistryProfile(
                name: words[1].lowercased(), profile: section["profile"],
                roleArn: section["role_arn"], region: section["region"],
                registryId: section["registry_id"], endpointURL: section["endpoint_url"],
                registryEndpoint: section["registry_endpoint"]?.lowercased())
            try validate(profile, path: path, line: section.line)
            profiles.append(profile)
        }
        return RegistryProfiles(path: path, profiles: profiles, credentialHelper: credentialHelper)
    }

    package static func load(environment: [String: String], homeDirectory: String) throws(AWSError) -> RegistryProfiles {
        try load(path: defaultPath(environment: environment, homeDirectory: homeDirectory))
    }

    /// The profile for a server URL or host: the section named by the host with its port, else by the host alone,
    /// else the section whose `registry_endpoint` is that host[:port] (an alias docker knows by its endpoint).
    package func profile(for server: String) -> RegistryProfile? {
        let withPort = RegistryHost.hostAndPort(of: server)
        let host = RegistryHost.hostName(of: server)
        return profiles.first { $0.name == withPort } ?? profiles.first { $0.name == host }
            ?? profiles.first { $0.registryEndpoint == withPort }
    }

    /// The section named exactly `name` (an alias or a host), case-insensitively.
    package func profile(named name: String) -> RegistryProfile? {
        let lowered = name.lowercased()
        return profiles.first { $0.name == lowered }
    }

    /// `docker-credential-<name>`: a name, never a path, and never ecrpush itself (it would call itself forever).
    static func isHelperName(_ name: String) -> Bool {
        !name.isEmpty && name != "ecrpush" && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }
            && !name.hasPrefix(".")
    }

    static func validate(_ profile: RegistryProfile, path: String, line: Int) throws(AWSError) {
        func bad(_ key: String, _ value: String, _ expected: String) -> AWSError {
            .malformedConfigFile(
                path: path, line: line,
                detail: "[registry \(profile.name)]: \(key) \(InputEcho.quoted(value)) is not \(expected)")
        }
        if let id = profile.registryId, !RegistryHost.isAccountId(id) { throw bad("registry_id", id, "a 12-digit account id") }
        if let region = profile.region, !Partition.isValidRegionName(region) { throw bad("region", region, "a region name such as eu-west-1") }
        if let url = profile.endpointURL, !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            throw bad("endpoint_url", url, "an http:// or https:// URL")
        }
        if let endpoint = profile.registryEndpoint, let problem = RegistryAddress.problem(with: endpoint) {
            throw bad("registry_endpoint", endpoint, "a registry host[:port] without scheme or path, such as registry.example.com:5000 (\(problem))")
        }
        if let arn = profile.roleArn, !STSValidation.isRoleARN(arn) {
            throw bad("role_arn", arn, STSValidation.roleARNExpectation)
        }
    }
}
