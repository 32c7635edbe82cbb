import Foundation

/// Where the Docker Engine listens, and which API version to speak, as `DOCKER_HOST` / `DOCKER_API_VERSION` say.
package struct DockerHost: Sendable, Equatable, CustomStringConvertible {
    package enum Endpoint: Sendable, Equatable {
        case unixSocket(path: String)
        /// Plain HTTP (TLS to the daemon is not supported).
        case tcp(host: String, port: Int)
    }

    package static let defaultSocketPath = "/var/run/docker.sock"
    /// Docker's conventional port for an unencrypted TCP daemon.
    package static let defaultTCPPort = 2375

    package var endpoint: Endpoint
    /// A pinned API version (`DOCKER_API_VERSION`); nil negotiates with the daemon via `/_ping`.
    package var apiVersion: String?

    package init(endpoint: Endpoint, apiVersion: String? = nil) {
        self.endpoint = endpoint
        self.apiVersion = apiVersion
    }

    package static func unixSocket(_ path: String = defaultSocketPath, apiVersion: String? = nil) -> DockerHost {
        DockerHost(endpoint: .unixSocket(path: path), apiVersion: apiVersion)
    }

    /// Reads `DOCKER_HOST` (default `unix:///var/run/docker.sock`) and `DOCKER_API_VERSION`.
    package static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DockerHost {
        let hostValue = environment["DOCKER_HOST"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let endpoint = hostValue.isEmpty ? Endpoint.unixSocket(path: defaultSocketPath) : try parseEndpoint(hostValue)
        if case .tcp = endpoint, let verify = environment["DOCKER_TLS_VERIFY"], !verify.isEmpty {
            throw DockerError.invalidHost(
                hostValue,
                reason: "DOCKER_TLS_VERIFY is set, but only plain HTTP to a TCP daemon "
                    + "is supported; use the daemon's unix socket or an unencrypted endpoint")
        }
        var version: String?
        if let pinned = environment["DOCKER_API_VERSION"]?.trimmingCharacters(in: .whitespaces), !pinned.isEmpty {
            version = try validatedAPIVersion(pinned)
        }
        return DockerHost(endpoint: endpoint, apiVersion: version)
    }

    /// Parses a `DOCKER_HOST` value: `unix:///path`, `tcp://host[:port]` (also `http://`), or a bare socket path.
    package static func parseEndpoint(_ value: String) throws -> Endpoint {
        if value.hasPrefix("/") { return .unixSocket(path: value) }
        guard let schemeEnd = value.range(of: "://") else {
            throw DockerError.invalidHost(value, reason: "expected unix:///path/to/docker.sock or tcp://host:port")
        }
        let scheme = value[..<schemeEnd.lowerBound].lowercased()
        let rest = String(value[schemeEnd.upperBound...])
        switch scheme {
        case "unix":
            let path = rest.isEmpty ? defaultSocketPath : rest
            guard path.hasPrefix("/") else {
                throw DockerError.invalidHost(value, reason: "the socket path must be absolute (unix:///path)")
            }
            return .unixSocket(path: path)
        case "tcp", "http":
            return try parseTCP(rest, original: value)
        case "https":
            throw DockerError.invalidHost(value, reason: "TLS to the Docker daemon is not supported; use tcp:// (plain HTTP) or unix://")
        default:
            throw DockerError.invalidHost(value, reason: "unsupported scheme \"\(scheme)\"; use unix:// or tcp://")
        }
    }

    private static func parseTCP(_ rest: String, original: String) throws -> Endpoint {
        var hostPort = rest
        // A trailing path ("tcp://host:2375/") is allowed when empty, as the docker CLI does.
        if let slash = hostPort.firstIndex(of: "/") {
            guard hostPort[slash...].allSatisfy({ $0 == "/" }) else {
                throw DockerError.invalidHost(original, reason: "a path is not allowed after host:port")
            }
            hostPort = String(hostPort[..<slash])
        }
        var host: String
        var portText: String?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw DockerError.invalidHost(original, reason: "unclosed [ in an IPv6 address")
            }
            host = String(hostPort[...close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") {
                portText = String(after.dropFirst())
            } else if !after.isEmpty {
                throw DockerError.invalidHost(original, reason: "unexpected text after the IPv6 address")
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = String(hostPort[hostPort.index(after: colon)...])
        } else {
            host = hostPort
        }
        if host.isEmpty { host = "localhost" }
        var port = defaultTCPPort
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                throw DockerError.invalidHost(original, reason: "invalid port \"\(portText)\"")
            }
            port = parsed
        }
        return .tcp(host: host, port: port)
    }

    static func validatedAPIVersion(_ text: String) throws -> String {
        let trimmed = text.hasPrefix("v") ? String(text.dropFirst()) : text
        guard APIVersion(trimmed) != nil else {
            throw DockerError.invalidHost(text, reason: "DOCKER_API_VERSION must look like 1.41")
        }
        return trimmed
    }

    /// The URL prefix requests use (`http://localhost` over a socket: the host then only fills `Host:`).
    var baseURL: String {
        switch endpoint {
        case .unixSocket: return "http://localhost"
        case .tcp(let host, let port): return "http://\(host):\(port)"
        }
    }

    package var socketPath: String? {
        if case .unixSocket(let path) = endpoint { return path }
        return nil
    }

    package var description: String {
        switch endpoint {
        case .unixSocket(let path): return "unix://" + path
        case .tcp(let host, let port): return "tcp://\(host):\(port)"
        }
    }
}

/// A Docker API version such as 1.41, compared numerically.
struct APIVersion: Comparable, Sendable, CustomStringConvertible {
    let major: Int
    let minor: Int

    init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else { return nil }
        self.init(major: major, minor: minor)
    }

    static func < (lhs: APIVersion, rhs: APIVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    var description: String { "\(major).\(minor)" }
}
