import Foundation

/// URL handling the distribution API needs: the base URL of a registry, and upload `Location`s that may be
/// relative, absolute, or already carry a query.
package enum RegistryURL {
    /// `https://host` for a bare host, `http://` for loopback hosts (a local registry speaks plain HTTP);
    /// a value that already names a scheme is kept. No trailing slash.
    package static func base(for registry: String) -> String {
        var value = registry
        while value.hasSuffix("/") { value.removeLast() }
        if value.hasPrefix("http://") || value.hasPrefix("https://") { return value }
        let host = value.split(separator: ":").first.map(String.init) ?? value
        let loopback = host == "localhost" || host.hasPrefix("127.") || value.hasPrefix("[::1]")
        return (loopback ? "http://" : "https://") + value
    }

    /// `Location` resolved against the URL that returned it.
    static func resolve(_ location: String, against url: String) -> String? {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        guard let base = URL(string: url), let resolved = URL(string: location, relativeTo: base) else { return nil }
        return resolved.absoluteString
    }

    /// `url` with `name=value` added to its query (with `&` when it already has one).
    static func appendingQuery(_ url: String, name: String, value: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+:;")
        let encoded = value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
        let separator = url.contains("?") ? (url.hasSuffix("?") || url.hasSuffix("&") ? "" : "&") : "?"
        return url + separator + name + "=" + encoded
    }
}
