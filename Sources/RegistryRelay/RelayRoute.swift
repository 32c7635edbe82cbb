import Foundation

/// What a request to the relay asks for: the part of the distribution API an Engine's push uses (the version check,
/// blob checks, upload sessions, the manifest), taken from its method and path.
enum RelayRoute: Equatable {
    case versionCheck
    case blobCheck(digest: String)
    /// `POST …/blobs/uploads/` (a `mount` query is answered as a plain new session: the relay mounts nothing).
    case startUpload
    case uploadChunk(session: String)
    /// `PUT …/blobs/uploads/<session>?digest=`: the last bytes, and the blob's name.
    case finishUpload(session: String, digest: String)
    case cancelUpload(session: String)
    case putManifest(reference: String)
    case unsupported

    init(method: String, uri: String) {
        let (path, query) = Self.split(uri)
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.first == "v2" else {
            self = .unsupported
            return
        }
        if parts.count == 1 {
            self = method == "GET" || method == "HEAD" ? .versionCheck : .unsupported
            return
        }
        // /v2/<name…>/blobs/<digest>, /v2/<name…>/blobs/uploads/[<session>], /v2/<name…>/manifests/<reference>;
        // a repository name has one or more components.
        if parts.count >= 4, parts[parts.count - 2] == "blobs", parts[parts.count - 1] == "uploads" {
            self = method == "POST" ? .startUpload : .unsupported
        } else if parts.count >= 5, parts[parts.count - 3] == "blobs", parts[parts.count - 2] == "uploads" {
            let session = parts[parts.count - 1]
            switch method {
            case "PATCH": self = .uploadChunk(session: session)
            case "PUT":
                if let digest = query["digest"], Self.isDigest(digest) {
                    self = .finishUpload(session: session, digest: digest)
                } else {
                    self = .unsupported
                }
            case "DELETE": self = .cancelUpload(session: session)
            default: self = .unsupported
            }
        } else if parts.count >= 4, parts[parts.count - 2] == "blobs", Self.isDigest(parts[parts.count - 1]) {
            self = method == "HEAD" ? .blobCheck(digest: parts[parts.count - 1]) : .unsupported
        } else if parts.count >= 4, parts[parts.count - 2] == "manifests" {
            self = method == "PUT" ? .putManifest(reference: parts[parts.count - 1]) : .unsupported
        } else {
            self = .unsupported
        }
    }

    /// The repository a `/v2/<name>/…` path names (nil for the version check and paths outside the API).
    static func repository(in uri: String) -> String? {
        let parts = split(uri).path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard parts.first == "v2", let marker = parts.lastIndex(where: { $0 == "blobs" || $0 == "manifests" }), marker > 1 else { return nil }
        return parts[1..<marker].joined(separator: "/")
    }

    /// `sha256:` and 64 lowercase hex digits: the only digests an Engine's push names.
    static func isDigest(_ value: String) -> Bool {
        guard value.hasPrefix("sha256:") else { return false }
        let hex = value.utf8.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// The path and its query's parameters (percent-decoded; the last of a repeated name wins).
    static func split(_ uri: String) -> (path: String, query: [String: String]) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, [:]) }
        var query: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let halves = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(halves[0]).removingPercentEncoding ?? String(halves[0])
            let value = halves.count > 1 ? (String(halves[1]).removingPercentEncoding ?? String(halves[1])) : ""
            query[name] = value
        }
        return (String(uri[..<mark]), query)
    }
}
