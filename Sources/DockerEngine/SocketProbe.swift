#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Tells apart why a unix socket cannot be used (missing, refused, or not ours to open) by connecting to it
/// directly: the transport's error text does not say which, and the user's remedy differs.
enum SocketProbe {
    enum Outcome: Equatable, Sendable {
        case connected
        case missing
        case refused
        case permissionDenied
        case failed(String)
    }

    static func probe(_ path: String) -> Outcome {
        #if canImport(Darwin)
        let descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
        #else
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard descriptor >= 0 else { return .failed(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return .failed("socket path longer than \(capacity - 1) bytes") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result == 0 { return .connected }
        switch errno {
        case ENOENT, ENOTDIR: return .missing
        case ECONNREFUSED: return .refused
        case EACCES, EPERM: return .permissionDenied
        case let code: return .failed(String(cString: strerror(code)))
        }
    }

    /// The error to report for a socket that could not be connected to; nil if it can be connected to now.
    static func diagnose(_ path: String, transportDetail: String) -> DockerError? {
        let host = "unix://" + path
        switch probe(path) {
        case .connected:
            return nil
        case .missing:
            return .daemonUnreachable(host: host, detail: "no socket at \(path)")
        case .refused:
            return .daemonUnreachable(host: host, detail: "nothing is listening on \(path) (connection refused)")
        case .permissionDenied:
            return .permissionDenied(socket: path)
        case .failed(let reason):
            return .daemonUnreachable(host: host, detail: "\(reason) (\(transportDetail))")
        }
    }
}

extension DockerHost {
    /// Whether the daemon's socket takes a connection now (a connect, no request). A TCP daemon is taken to: only
    /// a request would tell, and it costs a round trip.
    package var acceptsConnections: Bool {
        guard case .unixSocket(let path) = endpoint else { return true }
        return SocketProbe.probe(path) == .connected
    }
}
