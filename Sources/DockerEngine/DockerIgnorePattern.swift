/// One `.dockerignore` pattern, compiled like moby/patternmatcher's `Pattern`: the same four match kinds
/// (exact, prefix for `dir/**`, suffix for `**/name`, and a glob for the rest) so edge cases agree with Docker.
package struct DockerIgnorePattern: Sendable, Equatable, CustomStringConvertible {
    /// The pattern after cleaning, without the leading `!`.
    package let cleanedPattern: String
    /// A `!` line: re-includes what earlier patterns excluded.
    package let isException: Bool

    enum MatchKind: Sendable, Equatable { case exact, prefix, suffix, glob }

    enum Token: Sendable, Equatable {
        case literal(Unicode.Scalar)
        /// `?`: one character other than `/`.
        case anyButSlash
        /// `*`: any run of characters other than `/`.
        case starButSlash
        /// `**` (and `**/`) before more pattern: any number of whole directories, possibly none.
        case directories
        /// `**` at the end of a pattern that already has wildcards: anything at all.
        case anything
        case characterClass(negated: Bool, ranges: [ClosedRange<UInt32>])
    }

    let kind: MatchKind
    let tokens: [Token]
    private let scalars: [Unicode.Scalar]

    /// Parses one pattern line as `patternmatcher.New` does (trimmed and cleaned; nil for a blank one).
    init?(line: String) throws {
        let trimmed = Substring(line).trimmingGoSpace()
        if trimmed.isEmpty { return nil }
        var text = PathClean.clean(String(trimmed))
        var exception = false
        if text.hasPrefix("!") {
            guard text.count > 1 else {
                throw DockerError.invalidIgnorePattern(pattern: line, detail: "a lone \"!\" excludes nothing; give a path after it")
            }
            exception = true
            text.removeFirst()
        }
        if let problem = DockerIgnorePattern.syntaxProblem(in: text) {
            throw DockerError.invalidIgnorePattern(pattern: line, detail: problem)
        }
        self.init(cleaned: text, exception: exception)
    }

    /// A `!path` exception for a literal path (the Docker CLI's way to keep the Dockerfile and `.dockerignore`).
    init(exceptionFor path: String) {
        self.init(cleaned: PathClean.clean(path), exception: true)
    }

    private init(cleaned: String, exception: Bool) {
        cleanedPattern = cleaned
        isException = exception
        scalars = Array(cleaned.unicodeScalars)
        (kind, tokens) = DockerIgnorePattern.compile(scalars)
    }

    package var description: String { (isException ? "!" : "") + cleanedPattern }

    /// Mirrors `Pattern.compile` in moby/patternmatcher, producing tokens instead of a regular expression.
    private static func compile(_ pattern: [Unicode.Scalar]) -> (MatchKind, [Token]) {
        var kind = MatchKind.exact
        var tokens: [Token] = []
        var position = 0
        var iteration = 0
        func peek() -> Unicode.Scalar? { position < pattern.count ? pattern[position] : nil }
        while position < pattern.count {
            defer { iteration += 1 }
            let char = pattern[position]
            position += 1
            switch char {
            case "*":
                if peek() == "*" {
                    position += 1
                    // "**/" is treated as "**".
                    if peek() == "/" { position += 1 }
                    if peek() == nil {
                        // "**" at the end: like .gitignore, accept everything below.
                        if kind == .exact {
                            kind = .prefix
                        } else {
                            tokens.append(.anything)
                            kind = .glob
                        }
                    } else {
                        tokens.append(.directories)
                        kind = .glob
                    }
                    if iteration == 0 { kind = .suffix }
                } else {
                    tokens.append(.starButSlash)
                    kind = .glob
                }
            case "?":
                tokens.append(.anyButSlash)
                kind = .glob
            case "\\":
                // Escapes the next character; a trailing backslash stays a literal backslash.
                if let next = peek() {
                    position += 1
                    tokens.append(.literal(next))
                } else {
                    tokens.append(.literal("\\"))
                }
            case "[":
                let (negated, ranges, end) = parseClass(pattern, from: position)
                tokens.append(.characterClass(negated: negated, ranges: ranges))
                position = end
                kind = .glob
            default:
                tokens.append(.literal(char))
            }
        }
        return (kind, tokens)
    }

    /// Reads a `[...]` class starting after the `[` (syntax already checked); returns where it ends.
    private static func parseClass(_ pattern: [Unicode.Scalar], from start: Int) -> (Bool, [ClosedRange<UInt32>], Int) {
        var position = start
        var negated = false
        if position < pattern.count, pattern[position] == "^" {
            negated = true
            position += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        // Bounds-checked throughout: literal exception paths (the Dockerfile's) are never syntax-checked.
        func escaped() -> UInt32? {
            if position < pattern.count, pattern[position] == "\\" { position += 1 }
            guard position < pattern.count else { return nil }
            let value = pattern[position].value
            position += 1
            return value
        }
        while position < pattern.count {
            if pattern[position] == "]", !ranges.isEmpty {
                position += 1
                break
            }
            guard let low = escaped() else { break }
            var high = low
            if position < pattern.count, pattern[position] == "-" {
                position += 1
                high = escaped() ?? low
            }
            ranges.append(low...max(low, high))
        }
        return (negated, ranges, position)
    }

    /// Go's `filepath.Match` syntax errors, which Docker reports for a bad `.dockerignore` line.
    static func syntaxProblem(in text: String) -> String? {
        let pattern = Array(text.unicodeScalars)
        var position = 0
        while position < pattern.count {
            switch pattern[position] {
            case "\\":
                position += 1
                if position >= pattern.count { return "a trailing backslash escapes nothing" }
                position += 1
            case "[":
                position += 1
                if position < pattern.count, pattern[position] == "^" { position += 1 }
                var rangeCount = 0
                while true {
                    if position < pattern.count, pattern[position] == "]", rangeCount > 0 {
                        position += 1
                        break
                    }
                    // One class member: must exist and not start with '-' or ']'; may be escaped.
                    func member() -> Bool {
                        guard position < pattern.count, pattern[position] != "-", pattern[position] != "]" else { return false }
                        if pattern[position] == "\\" {
                            position += 1
                            guard position < pattern.count else { return false }
                        }
                        position += 1
                        return position < pattern.count
                    }
                    guard member() else { return "malformed character class (unclosed [ or a misplaced - or ])" }
                    if pattern[position] == "-" {
                        position += 1
                        guard member() else { return "malformed range in a character class" }
                    }
                    rangeCount += 1
                }
            default:
                position += 1
            }
        }
        return nil
    }

    func matches(_ path: ArraySlice<Unicode.Scalar>) -> Bool {
        switch kind {
        case .exact:
            return path.elementsEqual(scalars)
        case .prefix:
            // "dir/**": everything starting with "dir/" (the pattern minus its "**").
            return path.starts(with: scalars.dropLast(2))
        case .suffix:
            // "**/name": anything ending in "/name", or "name" itself.
            let suffix = scalars.dropFirst(2)
            if path.count >= suffix.count, path.suffix(suffix.count).elementsEqual(suffix) { return true }
            return suffix.first == "/" && path.elementsEqual(suffix.dropFirst())
        case .glob:
            return globMatches(Array(path))
        }
    }

    /// Dynamic programming over (token, position): `reachable[p]` says whether tokens[t...] match path[p...].
    private func globMatches(_ path: [Unicode.Scalar]) -> Bool {
        let count = path.count
        var next = [Bool](repeating: false, count: count + 1)
        next[count] = true
        for token in tokens.reversed() {
            var current = [Bool](repeating: false, count: count + 1)
            switch token {
            case .literal(let scalar):
                for p in 0..<count where path[p] == scalar { current[p] = next[p + 1] }
            case .anyButSlash:
                for p in 0..<count where path[p] != "/" { current[p] = next[p + 1] }
            case .characterClass(let negated, let ranges):
                for p in 0..<count {
                    let inClass = ranges.contains { $0.contains(path[p].value) }
                    if inClass != negated { current[p] = next[p + 1] }
                }
            case .starButSlash:
                current[count] = next[count]
                for p in stride(from: count - 1, through: 0, by: -1) {
                    current[p] = next[p] || (path[p] != "/" && current[p + 1])
                }
            case .anything:
                current[count] = next[count]
                for p in stride(from: count - 1, through: 0, by: -1) {
                    current[p] = next[p] || current[p + 1]
                }
            case .directories:
                // "(.*/)?": nothing, or anything that ends with a slash.
                var laterSlashMatch = false
                current[count] = next[count]
                for p in stride(from: count - 1, through: 0, by: -1) {
                    if path[p] == "/" && next[p + 1] { laterSlashMatch = true }
                    current[p] = next[p] || laterSlashMatch
                }
            }
            next = current
        }
        return next[0]
    }
}
