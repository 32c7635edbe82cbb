/// Go's `filepath.Clean` for slash-separated paths: Docker cleans `.dockerignore` patterns with it, so we must too.
enum PathClean {
    static func clean(_ path: String) -> String {
        if path.isEmpty { return "." }
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for element in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch element {
            case ".":
                continue
            case "..":
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(element)
                }
            default:
                parts.append(element)
            }
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}
