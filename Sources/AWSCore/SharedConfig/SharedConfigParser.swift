/// Line-by-line reader for `SharedConfigFile` (see there for the dialect).
struct SharedConfigParser {
    let path: String
    private var sections: [SharedConfigFile.Section] = []
    private var indexByName: [String: Int] = [:]
    /// The section lines currently go to (index into `sections`).
    private var current: Int?
    /// The last property defined in the current section, which indented lines continue.
    private var openProperty: (key: String, opensBlock: Bool)?

    init(path: String) { self.path = path }

    mutating func parse(_ text: String) throws(AWSError) -> SharedConfigFile {
        var body = Substring(text)
        if body.hasPrefix("\u{FEFF}") { body = body.dropFirst() }
        // "\r\n" is a single Character in Swift, so CRLF files need their own separator.
        let lines = body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (offset, rawLine) in lines.enumerated() {
            try read(line: rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine, number: offset + 1)
        }
        return SharedConfigFile(path: path, sections: sections)
    }

    private mutating func read(line: Substring, number: Int) throws(AWSError) {
        let trimmed = line.trimmingWhitespace()
        if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { return }

        if let first = line.first, first == " " || first == "\t", let property = openProperty, let current {
            try continueProperty(property, in: current, with: trimmed, number: number)
            return
        }
        if trimmed.hasPrefix("[") {
            try startSection(trimmed, number: number)
            return
        }
        guard let current else {
            // Name the key only: the value may be a secret.
            let what =
                trimmed.firstIndex(of: "=").map { "property '\(trimmed[..<$0].trimmingWhitespace())'" }
                ?? "'\(redactedPreview(trimmed))'"
            throw error(number, "\(what) is outside any section; start the file with a [section] header such as [default]")
        }
        let (key, value) = try keyValue(trimmed, number: number)
        sections[current].properties[key] = value
        // A key redefined with a value drops its old block; `key =` again keeps merging into the block.
        if !value.isEmpty { sections[current].subProperties[key] = nil }
        openProperty = (key, value.isEmpty)
    }

    private mutating func startSection(_ trimmed: Substring, number: Int) throws(AWSError) {
        guard let close = trimmed.firstIndex(of: "]") else {
            throw error(number, "section header '\(trimmed.prefix(60))' has no closing ']'")
        }
        let after = trimmed[trimmed.index(after: close)...].trimmingWhitespace()
        guard after.isEmpty || after.hasPrefix("#") || after.hasPrefix(";") else {
            throw error(number, "unexpected '\(after.prefix(40))' after the section header")
        }
        let name = String(trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingWhitespace())
        guard !name.isEmpty else { throw error(number, "empty section name '[]'") }
        if let existing = indexByName[name] {
            current = existing
        } else {
            sections.append(SharedConfigFile.Section(name: name, line: number))
            indexByName[name] = sections.count - 1
            current = sections.count - 1
        }
        openProperty = nil
    }

    private mutating func continueProperty(
        _ property: (key: String, opensBlock: Bool), in section: Int,
        with trimmed: Substring, number: Int
    ) throws(AWSError) {
        if property.opensBlock {
            guard trimmed.contains("=") else {
                throw error(number, "expected 'name = value' inside the '\(property.key)' block")
            }
            let (key, value) = try keyValue(trimmed, number: number)
            sections[section].subProperties[property.key, default: [:]][key] = value
        } else {
            let continued = stripInlineComment(trimmed)
            let previous = sections[section].properties[property.key] ?? ""
            sections[section].properties[property.key] = previous + "\n" + continued
        }
    }

    private func keyValue(_ trimmed: Substring, number: Int) throws(AWSError) -> (String, String) {
        guard let equals = trimmed.firstIndex(of: "=") else {
            throw error(number, "expected 'name = value', a [section] header or a comment, found '\(redactedPreview(trimmed))'")
        }
        let key = trimmed[..<equals].trimmingWhitespace()
        guard !key.isEmpty else { throw error(number, "property without a name before '='") }
        guard !key.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw error(number, "property name '\(key)' contains whitespace")
        }
        let value = stripInlineComment(trimmed[trimmed.index(after: equals)...].trimmingWhitespace())
        return (key.lowercased(), String(value))
    }

    /// `value # comment` → `value`; `a#b` stays (the SDKs need whitespace before an inline comment).
    private func stripInlineComment(_ value: Substring) -> Substring {
        var previousWasSpace = false
        for index in value.indices {
            let char = value[index]
            if previousWasSpace, char == "#" || char == ";" {
                return value[..<index].trimmingWhitespace()
            }
            previousWasSpace = char == " " || char == "\t"
        }
        return value
    }

    /// A line that failed to parse may hold a secret (a key pasted without `=`): show only its start.
    private func redactedPreview(_ line: Substring) -> String {
        line.count <= 12 ? String(line) : String(line.prefix(8)) + "…"
    }

    private func error(_ line: Int, _ detail: String) -> AWSError {
        .malformedConfigFile(path: path, line: line, detail: detail)
    }
}

private extension Substring {
    func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }
}
