import AWSCore
import Foundation
import Testing

@Suite struct SharedConfigFileParsingTests {
    private func parse(_ text: String) throws -> SharedConfigFile {
        try SharedConfigFile.parse(text, path: "/fake/config")
    }

    /// The error a parse throws, with its line and detail.
    private func parseFailure(_ text: String) -> (path: String, line: Int, detail: String)? {
        do {
            _ = try SharedConfigFile.parse(text, path: "/fake/config")
            return nil
        } catch {
            if case .malformedConfigFile(let path, let line, let detail) = error { return (path, line, detail) }
            return nil
        }
    }

    @Test func sectionsKeysAndValuesWithSurroundingWhitespace() throws {
        let file = try parse(
            """
            [default]
              region=us-east-1
            output   =   json\t
            [profile dev]
            \taws_access_key_id = AKIADEV
            """)
        #expect(file.sectionNames == ["default", "profile dev"])
        // Indented right after a header, a line is an ordinary property (nothing to continue yet).
        #expect(file.section(named: "default")?["region"] == "us-east-1")
        #expect(file.section(named: "default")?["output"] == "json")
        #expect(file.section(named: "profile dev")?["aws_access_key_id"] == "AKIADEV")
        #expect(file.section(named: "default")?.line == 1)
        #expect(file.section(named: "profile dev")?.line == 4)
    }

    @Test func indentedLineAfterAValueContinuesIt() throws {
        let file = try parse(
            """
            [default]
            ca_bundle = first
              second
            region = eu-west-1
            """)
        #expect(file.section(named: "default")?["ca_bundle"] == "first\nsecond")
        #expect(file.section(named: "default")?["region"] == "eu-west-1")
    }

    @Test func commentsWholeLineAndInline() throws {
        let file = try parse(
            """
            # a comment
            ; another comment
            [default] # comment after a header
              # an indented comment
            region = us-west-2 # inline comment
            output = json\t; inline with a tab
            password = a#b;c
            url = https://example.com/#fragment
            """)
        let section = try #require(file.section(named: "default"))
        #expect(section["region"] == "us-west-2")
        #expect(section["output"] == "json")
        // Without whitespace before them, '#' and ';' belong to the value.
        #expect(section["password"] == "a#b;c")
        #expect(section["url"] == "https://example.com/#fragment")
        #expect(section.properties.count == 4)
    }

    @Test func subPropertyBlocks() throws {
        let file = try parse(
            """
            [profile dev]
            s3 =
              max_concurrent_requests = 10
              addressing_style = path
            region = eu-central-1
            ecr =
                endpoint_url = http://127.0.0.1:5000
            """)
        let section = try #require(file.section(named: "profile dev"))
        #expect(section["s3"] == "")
        #expect(section.subProperties(of: "s3") == ["max_concurrent_requests": "10", "addressing_style": "path"])
        #expect(section["region"] == "eu-central-1")
        #expect(section.subProperties(of: "ecr")?["endpoint_url"] == "http://127.0.0.1:5000")
    }

    @Test func duplicateSectionsMergeLaterKeysWin() throws {
        let file = try parse(
            """
            [profile a]
            region = us-east-1
            output = json
            s3 =
              one = 1
            [profile b]
            region = eu-west-1
            [profile a]
            region = ap-south-1
            s3 =
              two = 2
            """)
        #expect(file.sectionNames == ["profile a", "profile b"])
        let a = try #require(file.section(named: "profile a"))
        #expect(a["region"] == "ap-south-1")
        #expect(a["output"] == "json")
        #expect(a.subProperties(of: "s3") == ["one": "1", "two": "2"])
    }

    @Test func emptyValuesAreKept() throws {
        let file = try parse(
            """
            [default]
            region =
            output=
            """)
        #expect(file.section(named: "default")?["region"] == "")
        #expect(file.section(named: "default")?["output"] == "")
    }

    @Test func keysAreCaseInsensitiveSectionNamesAreNot() throws {
        let file = try parse("[Dev]\nAWS_Access_Key_ID = AKIA\n")
        #expect(file.section(named: "Dev")?["aws_access_key_id"] == "AKIA")
        #expect(file.section(named: "Dev")?["AWS_ACCESS_KEY_ID"] == "AKIA")
        #expect(file.section(named: "dev") == nil)
    }

    @Test func crlfLineEndingsAndByteOrderMark() throws {
        let file = try parse("\u{FEFF}[default]\r\nregion = us-east-2\r\n\r\n[profile x]\r\noutput = text\r\n")
        #expect(file.section(named: "default")?["region"] == "us-east-2")
        #expect(file.section(named: "profile x")?["output"] == "text")
    }

    @Test func malformedLinesNameFileAndLine() throws {
        let noEquals = try #require(parseFailure("[default]\nregion = us-east-1\nthis line is wrong\n"))
        #expect(noEquals.path == "/fake/config")
        #expect(noEquals.line == 3)

        let outside = try #require(parseFailure("\n# comment\nregion = us-east-1\n[default]\n"))
        #expect(outside.line == 3)
        #expect(outside.detail.contains("outside any section"))

        let unclosed = try #require(parseFailure("[default]\nregion = x\n[profile dev\n"))
        #expect(unclosed.line == 3)
        #expect(unclosed.detail.contains("]"))

        let trailing = try #require(parseFailure("[default] extra\n"))
        #expect(trailing.line == 1)

        #expect(parseFailure("[ ]\n")?.line == 1)
        #expect(parseFailure("[default]\n= value\n")?.line == 2)

        let badBlock = try #require(parseFailure("[default]\ns3 =\n  not a pair\n"))
        #expect(badBlock.line == 3)
        #expect(badBlock.detail.contains("s3"))
    }

    @Test func malformedLineDoesNotEchoWhatMayBeASecret() throws {
        let failure = try #require(parseFailure("[default]\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"))
        #expect(!failure.detail.contains("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
        let description = "\(AWSError.malformedConfigFile(path: failure.path, line: failure.line, detail: failure.detail))"
        #expect(description.hasPrefix("/fake/config:2:"))

        let outside = try #require(parseFailure("aws_secret_access_key = wJalrXUtnFEMIEXAMPLE\n[default]\n"))
        #expect(outside.detail.contains("aws_secret_access_key"))
        #expect(!outside.detail.contains("wJalrXUtnFEMIEXAMPLE"))
    }

    @Test func loadReturnsNilForAMissingFileAndParsesAnExistingOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sharedconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try SharedConfigFile.load(path: directory.appendingPathComponent("absent").path) == nil)

        let path = directory.appendingPathComponent("config").path
        try "[default]\nregion = sa-east-1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let file = try #require(try SharedConfigFile.load(path: path))
        #expect(file.path == path)
        #expect(file.section(named: "default")?["region"] == "sa-east-1")

        try "[default\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: AWSError.self) { try SharedConfigFile.load(path: path) }
    }
}

@Suite struct SharedConfigProfileTests {
    private func shared(config: String?, credentials: String?) throws -> SharedConfig {
        SharedConfig(
            configPath: "/h/.aws/config", credentialsPath: "/h/.aws/credentials",
            configFile: try config.map { try SharedConfigFile.parse($0, path: "/h/.aws/config") },
            credentialsFile: try credentials.map { try SharedConfigFile.parse($0, path: "/h/.aws/credentials") })
    }

    @Test func profilePrefixInConfigBareNamesInCredentials() throws {
        let config = try shared(
            config: """
                [default]
                region = us-east-1
                [profile dev]
                region = eu-west-1
                [stray]
                region = ap-east-1
                [sso-session corp]
                sso_region = us-east-1
                """,
            credentials: """
                [prod]
                aws_access_key_id = AKIAPROD
                """)
        #expect(config.profileNames == ["default", "dev", "prod"])
        #expect(config.profile(named: "dev")?["region"] == "eu-west-1")
        #expect(config.profile(named: "prod")?["aws_access_key_id"] == "AKIAPROD")
        // `[stray]` in the config file is not a profile (the SDKs ignore it), but it is pointed out.
        #expect(config.profile(named: "stray") == nil)
        #expect(config.configSectionsMissingProfilePrefix == ["stray"])
        #expect(config.section(kind: "sso-session", name: "corp")?["sso_region"] == "us-east-1")
    }

    @Test func credentialsFileWinsOverConfigFile() throws {
        let config = try shared(
            config: """
                [profile dev]
                region = eu-west-1
                aws_access_key_id = FROMCONFIG
                """,
            credentials: """
                [dev]
                aws_access_key_id = FROMCREDENTIALS
                aws_secret_access_key = secret
                """)
        let profile = try #require(config.profile(named: "dev"))
        #expect(profile["aws_access_key_id"] == "FROMCREDENTIALS")
        #expect(profile["region"] == "eu-west-1")
        #expect(profile.definedIn == ["/h/.aws/config", "/h/.aws/credentials"])
    }

    @Test func profileDefaultSectionWinsOverDefault() throws {
        let config = try shared(
            config: """
                [profile default]
                region = eu-north-1
                [default]
                region = us-east-1
                output = json
                """, credentials: nil)
        let profile = try #require(config.profile(named: "default"))
        #expect(profile["region"] == "eu-north-1")
        #expect(profile["output"] == "json")
    }

    @Test func missingFilesMeanNoProfiles() throws {
        let config = try shared(config: nil, credentials: nil)
        #expect(config.profileNames.isEmpty)
        #expect(config.profile(named: "default") == nil)
    }

    @Test func pathsComeFromTheEnvironmentWithTildeExpanded() {
        let defaults = SharedConfig.paths(environment: [:], homeDirectory: "/home/me")
        #expect(defaults.config == "/home/me/.aws/config")
        #expect(defaults.credentials == "/home/me/.aws/credentials")
        let custom = SharedConfig.paths(
            environment: [
                "AWS_CONFIG_FILE": "~/cfg/aws.ini",
                "AWS_SHARED_CREDENTIALS_FILE": "/etc/aws/creds"
            ],
            homeDirectory: "/home/me/")
        #expect(custom.config == "/home/me/cfg/aws.ini")
        #expect(custom.credentials == "/etc/aws/creds")
    }
}
