/// An image reference checked against Docker's grammar (distribution/reference) before anything is sent:
/// `[domain[:port]/]path-component[/path-component...][:tag][@digest]`, lowercase path components.
package struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// The name, domain included (`localhost:5000/team/app`).
    package var repository: String
    package var tag: String?
    package var digest: String?

    package static let maxNameLength = 255

    package init(parsing text: String) throws {
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            let digest = String(rest[rest.index(after: at)...])
            try ImageReference.validateDigest(digest, in: text)
            self.digest = digest
            rest = rest[..<at]
        }
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let tag = String(rest[rest.index(after: colon)...])
            try ImageReference.validateTag(tag, in: text)
            self.tag = tag
            rest = rest[..<colon]
        }
        repository = String(rest)
        try ImageReference.validateRepository(repository, in: text)
    }

    /// `repository:tag` (or `repository@digest`), or just the repository.
    package var description: String {
        var text = repository
        if let tag { text += ":" + tag }
        if let digest { text += "@" + digest }
        return text
    }

    /// Checks a repository name (no tag): optional registry host, then lowercase path components.
    package static func validateRepository(_ repository: String) throws {
        try validateRepository(repository, in: repository)
    }

    /// Checks a tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    package static func validateTag(_ tag: String) throws {
        try validateTag(tag, in: tag)
    }

    private static func validateTag(_ tag: String, in reference: String) throws {
        let bytes = Array(tag.utf8)
        guard !bytes.isEmpty else { throw DockerError.invalidReference(reference, reason: "the tag is empty") }
        guard bytes.count <= 128 else { throw DockerError.invalidReference(reference, reason: "a tag is at most 128 characters") }
        guard isWord(bytes[0]), bytes.allSatisfy({ isWord($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }) else {
            throw DockerError.invalidReference(
                reference,
                reason: "a tag may contain only letters, digits, '_', '.' and '-', "
                    + "and may not start with '.' or '-'")
        }
    }

    private static func validateRepository(_ repository: String, in reference: String) throws {
        guard !repository.isEmpty else { throw DockerError.invalidReference(reference, reason: "the repository name is empty") }
        guard repository.utf8.count <= maxNameLength else {
            throw DockerError.invalidReference(reference, reason: "a repository name is at most \(maxNameLength) characters")
        }
        var components = repository.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if components.count > 1, let first = components.first,
            first.contains(".") || first.contains(":") || first == "localhost"
        {
            try validateDomain(first, in: reference)
            components.removeFirst()
        }
        if components.count == 1, components[0].utf8.count == 64, components[0].utf8.allSatisfy(isLowerHex) {
            throw DockerError.invalidReference(reference, reason: "a 64-character hexadecimal name would be taken for an image ID")
        }
        for component in components {
            guard !component.isEmpty else {
                throw DockerError.invalidReference(reference, reason: "empty path component (check for doubled or trailing '/')")
            }
            if component.contains(where: { $0.isUppercase }) {
                throw DockerError.invalidReference(reference, reason: "repository names must be lowercase")
            }
            guard isPathComponent(Array(component.utf8)) else {
                throw DockerError.invalidReference(
                    reference,
                    reason: "\"\(component)\" is not a valid path component: use lowercase "
                        + "letters and digits, separated by '.', '_', '__' or '-', starting and ending with a letter or digit")
            }
        }
    }

    /// `host[:port]`: DNS labels, an IPv4 address or a bracketed IPv6 address.
    private static func validateDomain(_ domain: String, in reference: String) throws {
        var host = Substring(domain)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else {
                throw DockerError.invalidReference(reference, reason: "unclosed [ in the registry address")
            }
            let inside = host[host.index(after: host.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw DockerError.invalidReference(reference, reason: "invalid IPv6 registry address")
            }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                port = after.dropFirst()
            } else if !after.isEmpty {
                throw DockerError.invalidReference(reference, reason: "invalid registry address \"\(domain)\"")
            }
            host = host[...close]
        } else {
            if let colon = host.firstIndex(of: ":") {
                port = host[host.index(after: colon)...]
                host = host[..<colon]
            }
            let labels = host.split(separator: ".", omittingEmptySubsequences: false)
            let validLabel: (Substring) -> Bool = { label in
                guard let first = label.first, let last = label.last else { return false }
                return first.isASCII && (first.isLetter || first.isNumber) && last.isASCII && (last.isLetter || last.isNumber)
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
            guard labels.allSatisfy(validLabel) else {
                throw DockerError.invalidReference(reference, reason: "invalid registry host \"\(host)\"")
            }
        }
        if let port {
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw DockerError.invalidReference(reference, reason: "invalid registry port \"\(port)\"")
            }
        }
    }

    /// `algorithm:hex`, e.g. `sha256:` and at least 32 hex digits.
    private static func validateDigest(_ digest: String, in reference: String) throws {
        let parts = digest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let algorithm = parts.first, let first = algorithm.first, first.isASCII, first.isLetter,
            algorithm.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+.-_".contains($0)) }),
            parts[1].utf8.count >= 32, parts[1].utf8.allSatisfy({ isLowerHex($0) || (0x41...0x46).contains($0) })
        else {
            throw DockerError.invalidReference(reference, reason: "invalid digest \"\(digest)\" (expected sha256:<64 hex digits>)")
        }
    }

    /// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
    private static func isPathComponent(_ bytes: [UInt8]) -> Bool {
        var index = 0
        func alphanumericRun() -> Bool {
            let start = index
            while index < bytes.count, isLowerAlphanumeric(bytes[index]) { index += 1 }
            return index > start
        }
        guard alphanumericRun() else { return false }
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "."):
                index += 1
            case UInt8(ascii: "_"):
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "_") { index += 1 }
            case UInt8(ascii: "-"):
                while index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            default:
                return false
            }
            guard alphanumericRun() else { return false }
        }
        return true
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte)
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (0x61...0x66).contains(byte) || (0x30...0x39).contains(byte)
    }

    private static func isWord(_ byte: UInt8) -> Bool {
        (0x61...0x7a).contains(byte) || (0x41...0x5a).contains(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: "_")
    }
}
