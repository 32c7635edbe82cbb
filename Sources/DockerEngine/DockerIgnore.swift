/// A `.dockerignore` file, matched the way the Docker CLI matches it (moby/patternmatcher): patterns are Go
/// `filepath.Match` globs plus `**`, evaluated in order, `!` lines re-include, and a path is excluded when it or
/// any of its parent directories matches the last applicable pattern.
package struct DockerIgnore: Sendable, Equatable {
    package private(set) var patterns: [DockerIgnorePattern]

    package init(patterns: [DockerIgnorePattern] = []) {
        self.patterns = patterns
    }

    /// Patterns as `.dockerignore` lines would give them after Docker's reading (already cleaned).
    package init(patternLines: [String]) throws {
        var patterns: [DockerIgnorePattern] = []
        for line in patternLines {
            if let pattern = try DockerIgnorePattern(line: line) { patterns.append(pattern) }
        }
        self.patterns = patterns
    }

    /// Parses the text of a `.dockerignore` file: `#` comments (only at the very start of a line), blank lines,
    /// surrounding whitespace and a UTF-8 BOM are dropped; leading `/` and `./` are cleaned away.
    package init(fileContents: String) throws {
        try self.init(patternLines: DockerIgnore.readLines(fileContents))
    }

    /// Docker's `ignorefile.ReadAll`: the cleaned pattern strings, exceptions still prefixed with `!`.
    static func readLines(_ text: String) -> [String] {
        var lines: [String] = []
        var isFirst = true
        // Split on bytes: as Characters, "\r\n" is one grapheme and would not split on "\n".
        for rawLine in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var bytes = rawLine[...]
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            if isFirst, bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            isFirst = false
            let line = Substring(String(decoding: bytes, as: UTF8.self))
            if line.hasPrefix("#") { continue }
            var pattern = line.trimmingGoSpace()
            if pattern.isEmpty { continue }
            let invert = pattern.hasPrefix("!")
            if invert { pattern = Substring(pattern.dropFirst()).trimmingGoSpace() }
            var cleaned = ""
            if !pattern.isEmpty {
                cleaned = PathClean.clean(String(pattern))
                if cleaned.count > 1, cleaned.hasPrefix("/") { cleaned.removeFirst() }
            }
            lines.append(invert ? "!" + cleaned : cleaned)
        }
        return lines
    }

    package var hasExceptions: Bool { patterns.contains { $0.isException } }

    /// Whether `path` (slash-separated, relative to the context root) is excluded from the build context.
    package func excludes(_ path: String) -> Bool {
        let file = Array(path.unicodeScalars)
        // Prefixes of the parent directories ("a", "a/b" for "a/b/c"), which a pattern may match instead.
        var parentPrefixes: [ArraySlice<Unicode.Scalar>] = []
        if let lastSlash = file.lastIndex(of: "/") {
            for index in 0..<lastSlash where file[index] == "/" { parentPrefixes.append(file[..<index]) }
            parentPrefixes.append(file[..<lastSlash])
        }
        var matched = false
        for pattern in patterns {
            // An inclusion cannot change an already excluded path, nor an exception a path not yet excluded.
            if pattern.isException != matched { continue }
            var match = pattern.matches(file[...])
            if !match {
                match = parentPrefixes.contains { pattern.matches($0) }
            }
            if match { matched = !pattern.isException }
        }
        return matched
    }

    /// Whether an excluded directory can be skipped whole: Docker still walks into it when an exception pattern
    /// literally starts with the directory's path (so `!dir/keep.txt` can bring a file back).
    func canSkipExcludedDirectory(_ relativePath: String) -> Bool {
        let directoryWithSlash = relativePath + "/"
        for pattern in patterns where pattern.isException {
            if (pattern.cleanedPattern + "/").hasPrefix(directoryWithSlash) { return false }
        }
        return true
    }

    /// The Docker CLI's `TrimBuildFilesFromExcludes`: `.dockerignore` and the Dockerfile are always sent, because
    /// the daemon needs them (it drops them again itself when the ignore file lists them).
    func keepingBuildFiles(dockerfile: String?) -> DockerIgnore {
        var copy = self
        for path in [".dockerignore", dockerfile].compactMap({ $0 }) where copy.excludes(path) {
            copy.patterns.append(DockerIgnorePattern(exceptionFor: path))
        }
        return copy
    }
}

extension Substring {
    /// Go's `strings.TrimSpace`.
    func trimmingGoSpace() -> Substring {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[start...end]
    }
}
