/// Everything that can go wrong talking to the Docker Engine, with what a user should do about it.
package enum DockerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The socket is missing, nothing listens on it, or the TCP endpoint refused the connection.
    case daemonUnreachable(host: String, detail: String)
    /// The daemon's unix socket exists but this user may not open it (EACCES).
    case permissionDenied(socket: String)
    /// The connection broke or timed out after it was made, or another transport failure.
    case transport(host: String, detail: String)
    /// The daemon answered with an error status; `message` is its own `{"message": ...}` text.
    case apiError(status: Int, message: String)
    case imageNotFound(String)
    /// A build step failed; `message` is the daemon's (e.g. "The command '/bin/sh -c exit 3' returned a non-zero code: 3").
    case buildFailed(message: String)
    case pushFailed(message: String)
    /// The build context directory does not exist or is not a directory.
    case contextMissing(path: String)
    /// A file of the build context could not be read (or changed while it was being sent).
    case contextUnreadable(path: String, detail: String)
    case dockerfileMissing(path: String)
    /// A line of `.dockerignore` is not a valid pattern.
    case invalidIgnorePattern(pattern: String, detail: String)
    /// An image name or tag that Docker's reference grammar rejects.
    case invalidReference(String, reason: String)
    /// `DOCKER_HOST` or `DOCKER_API_VERSION` could not be understood.
    case invalidHost(String, reason: String)
    /// The daemon answered something this client cannot make sense of.
    case unexpectedResponse(String)

    package var description: String {
        switch self {
        case .daemonUnreachable(let host, let detail):
            return "cannot reach the Docker daemon at \(host): \(detail). Is the Docker daemon running? "
                + "Start it, or set DOCKER_HOST to where it listens (unix:///path/to/docker.sock or tcp://host:port)."
        case .permissionDenied(let socket):
            return "permission denied opening the Docker socket \(socket). Add your user to the 'docker' group "
                + "(sudo usermod -aG docker $USER, then log in again) or run with sudo."
        case .transport(let host, let detail):
            return "talking to the Docker daemon at \(host) failed: \(detail)"
        case .apiError(let status, let message):
            return "the Docker daemon answered \(status): \(message)"
        case .imageNotFound(let name):
            return "no such image: \(name). Build or pull it first, or check the name and tag."
        case .buildFailed(let message):
            return "docker build failed: \(message)"
        case .pushFailed(let message):
            return "docker push failed: \(message)"
        case .contextMissing(let path):
            return "build context \(path) does not exist or is not a directory"
        case .contextUnreadable(let path, let detail):
            return "cannot send \(path) in the build context: \(detail). Fix its permissions or list it in .dockerignore."
        case .dockerfileMissing(let path):
            return "Dockerfile \(path) does not exist. Create it or point to the right file "
                + "(a Dockerfile listed in .dockerignore is still sent, so that is not the cause)."
        case .invalidIgnorePattern(let pattern, let detail):
            return "invalid .dockerignore pattern \"\(pattern)\": \(detail)"
        case .invalidReference(let reference, let reason):
            return "invalid image reference \"\(reference)\": \(reason)"
        case .invalidHost(let value, let reason):
            return "cannot use Docker host \"\(value)\": \(reason)"
        case .unexpectedResponse(let detail):
            return "unexpected answer from the Docker daemon: \(detail)"
        }
    }
}
