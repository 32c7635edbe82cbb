import AWSCredentials
import ECRLogin
import Foundation
import TestWorld
import Testing

/// What `--registry NAME` and a docker server URL resolve to, from a table of names against one config file.
@Suite struct RegistryTargetTests {
    static let config = """
        [registry loop]
        registry_id = 111122223333
        region = eu-west-1
        profile = ci
        role_arn = arn:aws:iam::111122223333:role/pusher
        endpoint_url = http://127.0.0.1:4566
        registry_endpoint = 127.0.0.1:5000

        [registry own]
        registry_endpoint = Registry.Internal:8443

        [registry 444455556666.dkr.ecr.us-west-2.amazonaws.com]
        profile = prod

        [registry pub]
        registry_endpoint = public.ecr.aws

        [default]
        credential_helper = pass
        """

    func profiles() throws -> RegistryProfiles {
        let directory = TemporaryDirectory()
        try Self.config.write(toFile: directory.path + "/config", atomically: true, encoding: .utf8)
        return try RegistryProfiles.load(path: directory.path + "/config")
    }

    @Test func namesResolveToSectionsHostsOrNothing() throws {
        let profiles = try profiles()
        #expect(profiles.credentialHelper == "pass")

        let alias = RegistryTarget.resolve("LOOP", in: profiles)
        #expect(alias.profile?.name == "loop" && alias.host == nil && !alias.isPublic)
        #expect(alias.registryId == "111122223333" && alias.region == "eu-west-1")
        #expect(alias.dockerRegistry == "127.0.0.1:5000")

        // docker names the alias's registry by its endpoint.
        let byEndpoint = RegistryTarget.resolve("http://127.0.0.1:5000/v2/", in: profiles)
        #expect(byEndpoint.profile?.name == "loop")

        let own = RegistryTarget.resolve("own", in: profiles)
        #expect(own.registryId == nil, "an alias without registry_id is the caller's own registry")
        #expect(own.dockerRegistry == "registry.internal:8443")

        let host = RegistryTarget.resolve("444455556666.dkr.ecr.us-west-2.amazonaws.com", in: profiles)
        #expect(host.profile?.profile == "prod" && host.registryId == "444455556666" && host.region == "us-west-2")
        #expect(host.dockerRegistry == "444455556666.dkr.ecr.us-west-2.amazonaws.com")

        let bare = RegistryTarget.resolve("https://123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", in: profiles)
        #expect(bare.profile == nil && bare.registryId == "123456789012" && bare.host?.fips == true)

        for name in ["public.ecr.aws", "https://public.ecr.aws/v2/", "pub"] {
            let target = RegistryTarget.resolve(name, in: profiles)
            #expect(target.isPublic && target.registryId == nil && target.region == "us-east-1", "\(name)")
        }

        for name in ["nowhere", "registry.example.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example"] {
            #expect(!RegistryTarget.resolve(name, in: profiles).isKnown, "\(name)")
        }
        #expect(RegistryTarget.resolve("registry.example.com", in: profiles).dockerRegistry == "registry.example.com")
        #expect(RegistryTarget.resolve("nowhere", in: profiles).dockerRegistry == nil)
    }

    /// A section fills in what flags left unset; its region wins (a registry is where it is); FIPS hosts get FIPS.
    @Test func applyFillsInWhatFlagsLeftOpen() throws {
        let profiles = try profiles()
        var input = AWSResolutionInput(environment: [:], homeDirectory: "/nonexistent")
        RegistryTarget.resolve("loop", in: profiles).apply(to: &input)
        #expect(input.profile == "ci" && input.roleArn == "arn:aws:iam::111122223333:role/pusher")
        #expect(input.endpointURL == "http://127.0.0.1:4566" && input.region == "eu-west-1")
        #expect(input.regionSource == "the [registry loop] section of ecrpush's config", "--debug says where the region came from")

        var flagged = AWSResolutionInput(
            environment: [:], homeDirectory: "/nonexistent", profile: "mine", region: "us-east-2",
            endpointURL: "http://127.0.0.1:9", roleArn: "arn:aws:iam::999999999999:role/mine")
        RegistryTarget.resolve("loop", in: profiles).apply(to: &flagged)
        #expect(flagged.profile == "mine" && flagged.endpointURL == "http://127.0.0.1:9")
        #expect(flagged.roleArn == "arn:aws:iam::999999999999:role/mine")
        #expect(flagged.region == "eu-west-1")

        var fips = AWSResolutionInput(environment: [:], homeDirectory: "/nonexistent")
        RegistryTarget.resolve("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", in: profiles).apply(to: &fips)
        #expect(fips.environment["AWS_USE_FIPS_ENDPOINT"] == "true" && fips.region == "us-east-1")
        #expect(fips.regionSource == "the registry host 123456789012.dkr.ecr-fips.us-east-1.amazonaws.com")
    }

    @Test func badValuesNameTheFileAndLine() throws {
        let directory = TemporaryDirectory()
        for (text, needle) in [
            ("[registry x]\nregistry_endpoint = https://r.example.com\n", "registry_endpoint"),
            ("[registry x]\nregistry_endpoint = r.example.com/v2\n", "registry_endpoint"),
            ("[default]\ncredential_helper = ../bin/sh\n", "credential_helper"),
            ("[default]\ncredential_helper = ecrpush\n", "credential_helper")
        ] {
            try text.write(toFile: directory.path + "/config", atomically: true, encoding: .utf8)
            #expect(throws: (any Error).self, "\(text)") { try RegistryProfiles.load(path: directory.path + "/config") }
            do {
                _ = try RegistryProfiles.load(path: directory.path + "/config")
            } catch {
                #expect(error.description.contains(needle) && error.description.contains(directory.path + "/config:1"), "\(error)")
            }
        }
    }
}
