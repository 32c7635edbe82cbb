/// Which tags of a repository can never move: the whole repository (`IMMUTABLE`), or all but (or only) the tags
/// its exclusion filters match (`IMMUTABLE_WITH_EXCLUSION`, `MUTABLE_WITH_EXCLUSION`).
package struct TagMutabilityExclusionFilter: Sendable, Equatable, Decodable {
    /// `WILDCARD`, the only kind ECR has: `*` matches any run of characters.
    package var filterType: String?
    package var filter: String

    package init(filterType: String? = "WILDCARD", filter: String) {
        self.filterType = filterType
        self.filter = filter
    }

    package func matches(_ tag: String) -> Bool {
        Self.wildcard(Array(filter), matches: Array(tag))
    }

    /// Glob matching with `*` only, iterative (no backtracking blow-up on long tags).
    static func wildcard(_ pattern: [Character], matches text: [Character]) -> Bool {
        var (p, t) = (0, 0)
        var star: Int?
        var resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] != "*", pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                resume = t
                p += 1
            } else if let star {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}

extension Repository {
    /// Whether ECR refuses to move `tag` once it names an image. Unknown settings count as mutable: ECR itself
    /// has the last word at PutImage, and an unnecessary refusal before a build would be worse.
    package func isTagImmutable(_ tag: String) -> Bool {
        let filters = imageTagMutabilityExclusionFilters ?? []
        switch imageTagMutability {
        case "IMMUTABLE": return true
        case "IMMUTABLE_WITH_EXCLUSION": return !filters.contains { $0.matches(tag) }
        case "MUTABLE_WITH_EXCLUSION": return filters.contains { $0.matches(tag) }
        default: return false
        }
    }

    /// Whether ECR starts a basic scan of every image pushed here.
    package var scansOnPush: Bool { imageScanningConfiguration?.scanOnPush ?? false }
}
