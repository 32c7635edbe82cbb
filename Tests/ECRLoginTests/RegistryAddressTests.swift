import ECRLogin
import Foundation
import TestWorld
import Testing

/// `--registry` and `registry_endpoint` values: host[:port] as docker names a registry, nothing else.
@Suite struct RegistryAddressTests {
    @Test(arguments: [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com", "registry.example.com:5000", "localhost", "localhost:5000",
        "127.0.0.1:5000", "10.0.0.1", "[::1]:5000", "[2001:db8::1]", "public.ecr.aws", "Registry.Internal:8443",
        "r:1", "r:65535", "a-b.c-d.example", String(repeating: "a", count: 63) + ".example.com"
    ])
    func wellFormedAddressesAreAccepted(address: String) {
        #expect(RegistryAddress.problem(with: address) == nil)
    }

    @Test(arguments: [
        ("host:99999", "port '99999'"), ("host:0", "port '0'"), (":0", "host is empty"), ("host:", "port after ':' is empty"),
        ("host:50a", "port '50a'"), ("host:+80", "port '+80'"), ("a b:5000", "whitespace"), ("host\t", "whitespace"),
        ("https://r.example.com", "scheme"), ("r.example.com/v2", "path"), ("r.example.com?x", "path"),
        ("user:pw@r.example.com", "user info"), ("::1", "brackets"), ("[::1", "closed"), ("[::1]x", "only :port"),
        ("[not-v6]:5000", "not an IPv6 address"), ("999.1.1.1", "not an IPv4 address"), ("1.2.3", "not an IPv4 address"),
        ("r..example.com", "empty label"), ("r.example.com.", "empty label"), ("-r.example.com", "hyphen"),
        ("r_1.example.com", "letters, digits, hyphens"), ("régistry.example.com", "letters, digits, hyphens"),
        (String(repeating: "a", count: 64) + ".example.com", "longer than 63"),
        (Array(repeating: "abcdefghi", count: 26).joined(separator: "."), "longer than 253"), ("", "empty")
    ])
    func malformedAddressesSayWhatIsWrong(address: String, expected: String) {
        let problem = RegistryAddress.problem(with: address)
        #expect(problem?.contains(expected) == true, "\(address): \(problem ?? "accepted")")
    }

    @Test func anOverlongPortIsNotEchoedWhole() {
        let problem = RegistryAddress.problem(with: "host:" + String(repeating: "9", count: 5000))
        #expect(problem?.contains("5000 characters") == true && (problem?.count ?? .max) < 200, "\(problem ?? "accepted")")
    }

    /// A section named exactly so is an alias whatever its name; anything else must be a host[:port].
    @Test func argumentsAreSectionsOrAddresses() throws {
        let directory = TemporaryDirectory()
        try "[registry prod]\nregistry_endpoint = registry.example.com:5000\n"
            .write(toFile: directory.path + "/config", atomically: true, encoding: .utf8)
        let profiles = try RegistryProfiles.load(path: directory.path + "/config")
        #expect(try RegistryTarget.argument("prod", in: profiles).dockerRegistry == "registry.example.com:5000")
        #expect(try RegistryTarget.argument("registry.example.com:5000", in: profiles).profile?.name == "prod")
        do {
            _ = try RegistryTarget.argument("host:99999", in: profiles)
            Issue.record("host:99999 was accepted")
        } catch {
            #expect(error.description.contains("--registry 'host:99999' is not a registry: the port '99999'"), "\(error)")
            #expect(error.description.contains(directory.path + "/config"), "the config file an alias would be in: \(error)")
        }
    }

    @Test(arguments: ["host:99999", "a b:5000", "user@host", "[::1"])
    func registryEndpointOfASectionIsCheckedTheSameWay(endpoint: String) throws {
        let directory = TemporaryDirectory()
        try "[registry x]\nregistry_endpoint = \(endpoint)\n".write(toFile: directory.path + "/config", atomically: true, encoding: .utf8)
        do {
            _ = try RegistryProfiles.load(path: directory.path + "/config")
            Issue.record("registry_endpoint = \(endpoint) was accepted")
        } catch {
            #expect(error.description.contains("\(directory.path)/config:1: [registry x]: registry_endpoint"), "\(error)")
            #expect(error.isInvalidInput)
        }
    }
}
