import Foundation
import Synchronization

/// `WWW-Authenticate: Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"`:
/// the registry wants a token from its token service (Docker Hub, GHCR, Quay, a distribution registry with token
/// auth) instead of the login itself. ECR asks for Basic and never sends this.
struct BearerChallenge: Sendable, Equatable {
    var realm: String
    var service: String?
    var scope: String?

    /// nil when the header is not a Bearer challenge with a realm.
    init?(header: String?) {
        guard let header else { return nil }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bearer ") else { return nil }
        let parameters = Self.parameters(String(trimmed.dropFirst("bearer ".count)))
        guard let realm = parameters["realm"], realm.hasPrefix("https://") || realm.hasPrefix("http://") else { return nil }
        self.realm = realm
        service = parameters["service"]
        scope = parameters["scope"]
    }

    /// `key="value",key2=value2`, quoted values may hold commas (scopes list actions: `pull,push`).
    static func parameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var index = text.startIndex
        func skip(_ characters: Set<Character>) {
            while index < text.endIndex, characters.contains(text[index]) { index = text.index(after: index) }
        }
        while index < text.endIndex {
            skip([" ", ","])
            let keyStart = index
            while index < text.endIndex, text[index] != "=" { index = text.index(after: index) }
            guard index < text.endIndex else { break }
            let key = text[keyStart..<index].trimmingCharacters(in: .whitespaces).lowercased()
            index = text.index(after: index)
            var value = ""
            if index < text.endIndex, text[index] == "\"" {
                index = text.index(after: index)
                while index < text.endIndex, text[index] != "\"" {
                    if text[index] == "\\", text.index(after: index) < text.endIndex { index = text.index(after: index) }
                    value.append(text[index])
                    index = text.index(after: index)
                }
                if index < text.endIndex { index = text.index(after: index) }
            } else {
                while index < text.endIndex, text[index] != "," {
                    value.append(text[index])
                    index = text.index(after: index)
                }
                value = value.trimmingCharacters(in: .whitespaces)
            }
            if !key.isEmpty { result[key] = value }
        }
        return result
    }

    /// The token service URL for this challenge.
    var tokenURL: String {
        var url = realm
        if let service { url = RegistryURL.appendingQuery(url, name: "service", value: service) }
        if let scope { url = RegistryURL.appendingQuery(url, name: "scope", value: scope) }
        return url
    }
}

/// Bearer tokens a registry's token service issued to this client, by repository (a token's scope is one
/// repository's actions). Kept in memory for the client's life only; never logged.
final class BearerTokens: Sendable {
    private let tokens = Mutex<[String: String]>([:])

    func token(for repository: String) -> String? { tokens.withLock { $0[repository] } }
    func set(_ token: String, for repository: String) { tokens.withLock { $0[repository] = token } }

    /// The repository a `/v2/<name>/(blobs|manifests|tags)/…` URL is about ("" for other paths).
    static func repository(in url: String) -> String {
        guard let path = URLComponents(string: url)?.path, path.hasPrefix("/v2/") else { return "" }
        let parts = path.dropFirst(4).split(separator: "/", omittingEmptySubsequences: false)
        // The last marker that is followed by something (a tag may be called "blobs").
        guard let marker = parts.indices.last(where: { $0 < parts.count - 1 && ["blobs", "manifests", "tags"].contains(parts[$0]) })
        else { return "" }
        return parts[..<marker].joined(separator: "/")
    }
}
