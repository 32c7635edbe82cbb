/// ECR's documented patterns, checked before any request.
package enum ECRValidation {
    /// `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`, 2 to 256 characters.
    package static func isRepositoryName(_ name: String) -> Bool {
        guard (2...256).contains(name.count) else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy(isNameComponent)
    }

    private static func isNameComponent(_ component: Substring) -> Bool {
        guard let first = component.first, let last = component.last, isLowerAlnum(first), isLowerAlnum(last) else {
            return false
        }
        var previousWasSeparator = false
        for char in component {
            if isLowerAlnum(char) { previousWasSeparator = false; continue }
            guard char == "." || char == "_" || char == "-", !previousWasSeparator else { return false }
            previousWasSeparator = true
        }
        return true
    }

    private static func isLowerAlnum(_ char: Character) -> Bool {
        char.isASCII && (char.isNumber || (char.isLetter && char.isLowercase))
    }

    package static func isRegistryId(_ id: String) -> Bool {
        id.count == 12 && id.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// Docker's tag grammar `[\w][\w.-]{0,127}`, which ECR accepts.
    package static func isImageTag(_ tag: String) -> Bool {
        guard (1...128).contains(tag.count), let first = tag.first, first.isASCII,
            first.isLetter || first.isNumber || first == "_"
        else { return false }
        return tag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-") }
    }

    /// `sha256:` and 64 lowercase hex digits: the only digest ECR produces.
    package static func isImageDigest(_ digest: String) -> Bool {
        guard digest.hasPrefix("sha256:") else { return false }
        let hex = digest.dropFirst("sha256:".count)
        return hex.count == 64 && hex.allSatisfy { $0.isASCII && ($0.isNumber || ("a"..."f").contains($0)) }
    }

    package static func validateDigest(_ digest: String) throws(ECRError) {
        guard isImageDigest(digest) else { throw .invalidImageDigest(digest) }
    }

    package static func validateRepositoryName(_ name: String) throws(ECRError) {
        guard isRepositoryName(name) else { throw .invalidRepositoryName(name) }
    }

    package static func validateRegistryIds(_ ids: [String]) throws(ECRError) {
        for id in ids where !isRegistryId(id) { throw .invalidRegistryId(id) }
    }

    package static func validateTag(_ tag: String) throws(ECRError) {
        guard isImageTag(tag) else { throw .invalidImageTag(tag) }
    }
}
