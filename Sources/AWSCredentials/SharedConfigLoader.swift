import AWSCore

/// Reads the shared config and credentials files once, and only when a step of the resolution needs them, so
/// that a broken `~/.aws/config` does not get in the way of credentials and region given in the environment.
final class SharedConfigLoader {
    let environment: [String: String]
    let homeDirectory: String
    private var loaded: Result<SharedConfig, AWSError>?

    init(environment: [String: String], homeDirectory: String) {
        self.environment = environment
        self.homeDirectory = homeDirectory
    }

    var paths: (config: String, credentials: String) {
        SharedConfig.paths(environment: environment, homeDirectory: homeDirectory)
    }

    func load() throws(AWSError) -> SharedConfig {
        if let loaded { return try loaded.get() }
        let result: Result<SharedConfig, AWSError>
        do {
            result = .success(try SharedConfig.load(environment: environment, homeDirectory: homeDirectory))
        } catch {
            result = .failure(error)
        }
        loaded = result
        return try result.get()
    }

    /// The profile a user named (`--profile` / `AWS_PROFILE`), or an error listing the profiles there are.
    func requireProfile(_ name: String, namedBy origin: String) throws(AWSError) -> SharedConfigProfile {
        let config = try load()
        if let profile = config.profile(named: name) { return profile }
        var text = "profile '\(name)' (from \(origin)) was not found in \(config.configPath)"
        text += config.configFile == nil ? " (no such file)" : ""
        text += " or \(config.credentialsPath)"
        text += config.credentialsFile == nil ? " (no such file)" : ""
        let names = config.profileNames
        text += names.isEmpty ? "; no profiles are defined." : "; profiles found: \(names.joined(separator: ", "))."
        if config.configSectionsMissingProfilePrefix.contains(name) {
            text += " \(config.configPath) has a section [\(name)]: in the config file a profile is written [profile \(name)]."
        }
        throw AWSError.invalidConfiguration(text)
    }

    /// "profile 'dev' in /home/me/.aws/config and /home/me/.aws/credentials" (the files that define it).
    static func describe(_ profile: SharedConfigProfile) -> String {
        profile.definedIn.isEmpty
            ? "profile '\(profile.name)'"
            : "profile '\(profile.name)' in \(profile.definedIn.joined(separator: " and "))"
    }
}
