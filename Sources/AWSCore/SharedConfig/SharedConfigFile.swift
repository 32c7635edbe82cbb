import Foundation

/// One INI file in the dialect of the AWS shared config and credentials files (`~/.aws/config`,
/// `~/.aws/credentials`), also used for ecrpush's own config file.
///
/// The dialect, as the AWS SDKs read it:
/// - `[name]` starts a section; `[default]` and `[profile dev]` are kept verbatim (the profile view decides what
///   they mean). Sections that appear twice are merged, later keys winning.
/// - `key = value`; keys are case-insensitive (stored lowercased), values are trimmed and may be empty.
/// - Whole-line comments start with `#` or `;`. Inline comments need whitespace before the `#`/`;`
///   (`region = us-east-1 # prod`), so values such as `a#b` survive.
/// - An indented line after `key =` (empty value) is a sub-property (`s3 =\n  max_concurrent_requests = 10`);
///   an indented line after `key = value` continues that value on a new line.
package struct SharedConfigFile: Sendable, Equatable {
    package struct Section: Sendable, Equatable {
        /// The text between the brackets, trimmed (`default`, `profile dev`, `sso-session corp`).
        package let name: String
        /// Line of the section's first header in the file (1-based).
        package let line: Int
        /// Keys lowercased. A key that opens a sub-property block has the value "".
        package internal(set) var properties: [String: String]
        /// Sub-property blocks by their (lowercased) parent key.
        package internal(set) var subProperties: [String: [String: String]]

        package init(
            name: String, line: Int, properties: [String: String] = [:],
            subProperties: [String: [String: String]] = [:]
        ) {
            self.name = name
            self.line = line
            self.properties = properties
            self.subProperties = subProperties
        }

        package subscript(_ key: String) -> String? { properties[key.lowercased()] }

        /// The block under `key`, e.g. `subProperties(of: "s3")?["max_concurrent_requests"]`.
        package func subProperties(of key: String) -> [String: String]? { subProperties[key.lowercased()] }

        /// Later values win; sub-property blocks merge key by key.
        mutating func merge(_ other: Section) {
            properties.merge(other.properties) { _, new in new }
            subProperties.merge(other.subProperties) { old, new in old.merging(new) { _, latest in latest } }
        }
    }

    /// Where the text came from, for error messages.
    package let path: String
    /// Sections in order of first appearance, duplicates merged.
    package private(set) var sections: [Section]

    package init(path: String, sections: [Section]) {
        self.path = path
        self.sections = sections
    }

    package var sectionNames: [String] { sections.map(\.name) }

    package func section(named name: String) -> Section? { sections.first { $0.name == name } }

    /// Reads the file at `path`; nil when it does not exist (a missing shared file is normal).
    package static func load(path: String) throws(AWSError) -> SharedConfigFile? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        guard !isDirectory.boolValue else {
            throw AWSError.malformedConfigFile(path: path, line: 0, detail: "is a directory, not a file")
        }
        // A FileHandle, not FileManager.contents: character devices such as /dev/null (a common way to say
        // "no shared file") read as empty instead of failing.
        let unreadable = AWSError.malformedConfigFile(path: path, line: 0, detail: "cannot be read (check its permissions)")
        guard let handle = FileHandle(forReadingAtPath: path) else { throw unreadable }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.readToEnd() ?? Data() } catch { throw unreadable }
        return try parse(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses INI text; errors name `path` and the 1-based line.
    package static func parse(_ text: String, path: String) throws(AWSError) -> SharedConfigFile {
        var parser = SharedConfigParser(path: path)
        return try parser.parse(text)
    }
}
