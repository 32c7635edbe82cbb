import Foundation

/// Scheme, host and port of a URL: what decides whether credentials may follow a redirect.
struct URLOrigin: Equatable, CustomStringConvertible {
    var scheme: String
    var host: String
    var port: Int

    init?(_ url: String) {
        guard let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased()
        else { return nil }
        self.scheme = scheme
        self.host = host
        switch (components.port, scheme) {
        case (let port?, _): self.port = port
        case (nil, "https"): self.port = 443
        default: self.port = 80
        }
    }

    var description: String { "\(scheme)://\(host):\(port)" }
}

/// URLs as they may appear in error messages: presigned URLs carry signatures and session tokens in their query,
/// and URLs may carry a user:password, so those parts are blanked.
enum URLDisplay {
    private static let sensitiveQueryWords = ["signature", "token", "credential", "secret", "password", "key"]

    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else {
            // Not parseable: show only what precedes any query.
            return url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        }
        var changed = false
        if components.user != nil || components.password != nil {
            components.user = nil
            components.password = nil
            changed = true
        }
        if let items = components.queryItems {
            components.queryItems = items.map { item in
                let name = item.name.lowercased()
                guard sensitiveQueryWords.contains(where: { name.contains($0) }) else { return item }
                changed = true
                return URLQueryItem(name: item.name, value: "REDACTED")
            }
        }
        return changed ? (components.string ?? url) : url
    }
}
