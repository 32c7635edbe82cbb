/// The AWS shared config and credentials files seen as profiles, the way the AWS SDKs and CLI see them:
/// - config file (`AWS_CONFIG_FILE`, default `~/.aws/config`): `[default]` and `[profile NAME]`
///   (`[profile default]` wins over `[default]`); other sections (`[sso-session x]`, `[services x]`) are not profiles.
/// - credentials file (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`): `[NAME]`.
/// - A profile defined in both files has the keys of both, the credentials file's winning.
package struct SharedConfig: Sendable {
    package let configPath: String
    package let credentialsPath: String
    /// nil when the file does not exist.
    package let configFile: SharedConfigFile?
    package let credentialsFile: SharedConfigFile?

    package init(
        configPath: String, credentialsPath: String, configFile: SharedConfigFile?,
        credentialsFile: SharedConfigFile?
    ) {
        self.configPath = configPath
        self.credentialsPath = credentialsPath
        self.configFile = configFile
        self.credentialsFile = credentialsFile
    }

    /// Where the files are: `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE` (a leading `~/` is expanded), else
    /// under `homeDirectory/.aws/`.
    package static func paths(environment: [String: String], homeDirectory: String) -> (config: String, credentials: String) {
        func resolve(_ variable: String, default name: String) -> String {
            guard let value = environment[variable], !value.isEmpty else {
                return joinPath(homeDirectory, ".aws/\(name)")
            }
            if value == "~" { return homeDirectory }
            if value.hasPrefix("~/") { return joinPath(homeDirectory, String(value.dropFirst(2))) }
            return value
        }
        return (resolve("AWS_CONFIG_FILE", default: "config"), resolve("AWS_SHARED_CREDENTIALS_FILE", default: "credentials"))
    }

    /// Reads both files (either may be missing); throws `AWSError.malformedConfigFile` for one that does not parse.
    package static func load(environment: [String: String], homeDirectory: String) throws(AWSError) -> SharedConfig {
        let (configPath, credentialsPath) = paths(environment: environment, homeDirectory: homeDirectory)
        return SharedConfig(
            configPath: configPath, credentialsPath: credentialsPath,
            configFile: try SharedConfigFile.load(path: configPath),
            credentialsFile: try SharedConfigFile.load(path: credentialsPath))
    }

    /// Every profile name found in either file, sorted.
    package var profileNames: [String] {
        var names = Set<String>()
        for section in configFile?.sections ?? [] {
            if let name = Self.configProfileName(section.name) { names.insert(name) }
        }
        for section in credentialsFile?.sections ?? [] { names.insert(section.name) }
        return names.sorted()
    }

    /// The profile merged from both files, or nil when neither defines it.
    package func profile(named name: String) -> SharedConfigProfile? {
        var profile = SharedConfigProfile(name: name)
        var found = false
        if let configFile {
            // `[default]` first so that `[profile default]` overrides it.
            let sections = configFile.sections.filter { Self.configProfileName($0.name) == name }
            let matching = sections.filter { $0.name == "default" } + sections.filter { $0.name != "default" }
            for section in matching {
                profile.merge(section)
                found = true
            }
            if !matching.isEmpty { profile.definedIn.append(configFile.path) }
        }
        if let credentialsFile, let section = credentialsFile.section(named: name) {
            profile.merge(section)
            profile.definedIn.append(credentialsFile.path)
            found = true
        }
        return found ? profile : nil
    }

    /// A non-profile section of the config file, e.g. `section(kind: "sso-session", name: "corp")`.
    package func section(kind: String, name: String) -> SharedConfigFile.Section? {
        configFile?.sections.first { section in
            let parts = section.name.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return parts.count == 2 && parts[0] == kind && parts[1] == name
        }
    }

    /// Config-file sections that look like a profile written the credentials-file way (`[dev]` instead of
    /// `[profile dev]`): the SDKs ignore them, so a "profile not found" message should point them out.
    package var configSectionsMissingProfilePrefix: [String] {
        (configFile?.sections ?? []).map(\.name).filter { name in
            Self.configProfileName(name) == nil && !name.contains(" ") && !name.contains("\t")
        }
    }

    /// `default` → `default`, `profile dev` → `dev`; anything else is not a profile.
    static func configProfileName(_ sectionName: String) -> String? {
        if sectionName == "default" { return "default" }
        let parts = sectionName.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
        guard parts.count == 2, parts[0] == "profile" else { return nil }
        let name = parts[1].drop { $0 == " " || $0 == "\t" }
        return name.isEmpty ? nil : String(name)
    }

    private static func joinPath(_ directory: String, _ relative: String) -> String {
        directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
    }
}

/// One named profile with the keys of every section that defines it.
package struct SharedConfigProfile: Sendable, Equatable {
    package let name: String
    /// Keys lowercased.
    package var properties: [String: String]
    package var subProperties: [String: [String: String]]
    /// The files whose sections define it, config file first.
    package var definedIn: [String]

    package init(
        name: String, properties: [String: String] = [:], subProperties: [String: [String: String]] = [:],
        definedIn: [String] = []
    ) {
        self.name = name
        self.properties = properties
        self.subProperties = subProperties
        self.definedIn = definedIn
    }

    package subscript(_ key: String) -> String? { properties[key.lowercased()] }

    /// The value of `key` when it is present and not empty.
    package func value(_ key: String) -> String? {
        guard let value = properties[key.lowercased()], !value.isEmpty else { return nil }
        return value
    }

    mutating func merge(_ section: SharedConfigFile.Section) {
        properties.merge(section.properties) { _, new in new }
        subProperties.merge(section.subProperties) { old, new in old.merging(new) { _, latest in latest } }
    }
}
