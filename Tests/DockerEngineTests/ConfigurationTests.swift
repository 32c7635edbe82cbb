import Foundation
import TestWorld
import Testing

@testable import DockerEngine

@Suite struct RegistryAuthTests {
    /// Decodes an X-Registry-Auth value the way the daemon does (URL-safe alphabet, padding optional).
    static func decode(_ header: String) throws -> [String: String] {
        var standard = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while standard.count % 4 != 0 { standard += "=" }
        let data = try #require(Data(base64Encoded: standard))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
    }

    @Test(arguments: [
        ("AWS", "s3cr3t", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        // Characters whose standard base64 contains '+' and '/': the header must use '-' and '_'.
        ("u", "??>>??>>~~~", "127.0.0.1:5000"),
        ("user\"quote", "p\\a\"ss\nword\u{1}é😀", "[::1]:5000"),
        ("a", "", "r"),
        ("ab", "c", "rr")
    ])
    func encodesURLSafeJSON(username: String, password: String, server: String) throws {
        let auth = RegistryAuth(username: username, password: password, serverAddress: server)
        let header = auth.headerValue
        #expect(!header.contains("+") && !header.contains("/"), "\(header)")
        #expect(header.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_=".contains($0)) })
        let decoded = try Self.decode(header)
        #expect(decoded == ["username": username, "password": password, "serveraddress": server])
        // The docker CLI pads with '='; so must the length be a multiple of 4.
        #expect(header.count % 4 == 0)
    }

    @Test func standardAlphabetWouldHaveNeededReplacing() {
        // Guard that the table above really exercises the URL-safe characters.
        let auth = RegistryAuth(username: "u", password: "??>>??>>~~~", serverAddress: "127.0.0.1:5000")
        let standard = Data("{\"username\":\"u\",\"password\":\"??>>??>>~~~\",\"serveraddress\":\"127.0.0.1:5000\"}".utf8).base64EncodedString()
        #expect(standard.contains("+") || standard.contains("/"))
        #expect(auth.headerValue.contains("-") || auth.headerValue.contains("_"))
    }

    @Test func descriptionNeverShowsThePassword() {
        let auth = RegistryAuth(username: "AWS", password: "hunter2-very-secret", serverAddress: "r.example")
        #expect(!auth.description.contains("hunter2"))
        #expect(!"\(auth)".contains("hunter2"))
    }
}

@Suite struct DockerHostTests {
    @Test func defaultsToTheStandardSocket() throws {
        let host = try DockerHost.fromEnvironment([:])
        #expect(host == DockerHost(endpoint: .unixSocket(path: "/var/run/docker.sock"), apiVersion: nil))
        #expect(host.baseURL == "http://localhost")
        #expect(host.socketPath == "/var/run/docker.sock")
        #expect(try DockerHost.fromEnvironment(["DOCKER_HOST": ""]).endpoint == .unixSocket(path: "/var/run/docker.sock"))
    }

    @Test(arguments: [
        ("unix:///tmp/dk/docker.sock", DockerHost.Endpoint.unixSocket(path: "/tmp/dk/docker.sock")),
        ("unix://", .unixSocket(path: "/var/run/docker.sock")),
        ("/run/user/1000/docker.sock", .unixSocket(path: "/run/user/1000/docker.sock")),
        ("tcp://127.0.0.1:2375", .tcp(host: "127.0.0.1", port: 2375)),
        ("tcp://docker.internal:12375/", .tcp(host: "docker.internal", port: 12375)),
        ("tcp://10.0.0.5", .tcp(host: "10.0.0.5", port: 2375)),
        ("tcp://:2376", .tcp(host: "localhost", port: 2376)),
        ("tcp://[::1]:2375", .tcp(host: "[::1]", port: 2375)),
        ("http://localhost:2375", .tcp(host: "localhost", port: 2375))
    ])
    func parsesDockerHost(_ value: String, _ expected: DockerHost.Endpoint) throws {
        #expect(try DockerHost.fromEnvironment(["DOCKER_HOST": value]).endpoint == expected)
    }

    @Test(arguments: [
        "ssh://user@host", "unix://relative/path", "tcp://host:port", "tcp://host:0", "tcp://host:70000",
        "tcp://host:2375/path", "https://host:2376", "npipe:////./pipe/docker_engine", "nonsense"
    ])
    func rejectsWhatItCannotUse(_ value: String) {
        #expect(throws: DockerError.self, "\(value)") { try DockerHost.fromEnvironment(["DOCKER_HOST": value]) }
    }

    @Test func tcpURLs() throws {
        let host = try DockerHost.fromEnvironment(["DOCKER_HOST": "tcp://127.0.0.1:2375"])
        #expect(host.baseURL == "http://127.0.0.1:2375")
        #expect(host.socketPath == nil)
        #expect(host.description == "tcp://127.0.0.1:2375")
    }

    @Test func tlsVerifyIsRefusedRatherThanIgnored() {
        #expect(throws: DockerError.self) {
            try DockerHost.fromEnvironment(["DOCKER_HOST": "tcp://h:2376", "DOCKER_TLS_VERIFY": "1"])
        }
    }

    @Test func apiVersionIsHonoured() throws {
        #expect(try DockerHost.fromEnvironment(["DOCKER_API_VERSION": "1.40"]).apiVersion == "1.40")
        #expect(try DockerHost.fromEnvironment(["DOCKER_API_VERSION": "v1.39"]).apiVersion == "1.39")
        #expect(throws: DockerError.self) { try DockerHost.fromEnvironment(["DOCKER_API_VERSION": "latest"]) }
    }

    @Test func negotiationTakesTheLowerVersion() {
        #expect(DockerClient.negotiate(daemonVersion: "1.41") == "1.41")
        #expect(DockerClient.negotiate(daemonVersion: "1.47") == DockerClient.maxAPIVersion)
        #expect(DockerClient.negotiate(daemonVersion: "1.9") == "1.9")  // numeric, not string, comparison
        #expect(DockerClient.negotiate(daemonVersion: nil) == "1.24")
        #expect(DockerClient.negotiate(daemonVersion: "garbage") == "1.24")
    }

    @Test func pinnedVersionNeedsNoPing() async throws {
        // No daemon at all: a pinned version is used as is, without asking.
        let client = DockerClient(socketPath: "/nonexistent/docker.sock", apiVersion: "1.40")
        #expect(try await client.apiVersion() == "1.40")
        #expect(
            try await client.url("/images/json", query: [("filters", "{\"a\":[\"b c\"]}")])
                == "http://localhost/v1.40/images/json?filters=%7B%22a%22%3A%5B%22b%20c%22%5D%7D")
    }

    @Test func buildQueryCarriesEveryOption() throws {
        let options = BuildOptions(
            tags: ["app:1", "registry:5000/team/app:latest"], buildArgs: ["B": "2", "A": "x y"],
            labels: ["org.example/x": "1"], target: "base", platform: "linux/amd64",
            noCache: true, pull: true, networkMode: "none")
        let query = try DockerClient.buildQuery(options, dockerfile: "sub/Dockerfile")
        #expect(
            query.map { "\($0.0)=\($0.1)" } == [
                "dockerfile=sub/Dockerfile", "t=app:1", "t=registry:5000/team/app:latest",
                "buildargs={\"A\":\"x y\",\"B\":\"2\"}", "labels={\"org.example/x\":\"1\"}",
                "target=base", "platform=linux/amd64", "networkmode=none", "nocache=1", "pull=1", "rm=1", "forcerm=1"
            ])
    }

    @Test func errorDescriptionsSayWhatToDo() {
        #expect(DockerError.daemonUnreachable(host: "unix:///x", detail: "no socket").description.contains("Is the Docker daemon running?"))
        #expect(DockerError.daemonUnreachable(host: "unix:///x", detail: "no socket").description.contains("DOCKER_HOST"))
        let denied = DockerError.permissionDenied(socket: "/var/run/docker.sock").description
        #expect(denied.contains("docker' group") && denied.contains("sudo"))
        #expect(DockerError.apiError(status: 500, message: "boom").description.contains("boom"))
        #expect(DockerClient.errorMessage(from: Array("{\"message\":\"No such image: x\"}".utf8), status: 404) == "No such image: x")
        #expect(DockerClient.errorMessage(from: Array("plain text\n".utf8), status: 500) == "plain text")
        #expect(DockerClient.errorMessage(from: [], status: 502) == "HTTP status 502")
    }
}

@Suite struct SocketProbeTests {
    @Test func missingSocketIsDaemonUnreachable() {
        let error = SocketProbe.diagnose("/nonexistent-dir/docker.sock", transportDetail: "curl said no")
        guard case .daemonUnreachable(let host, let detail)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(host == "unix:///nonexistent-dir/docker.sock")
        #expect(detail.contains("no socket"))
    }

    @Test func aSocketNobodyListensOnIsRefused() async throws {
        let directory = TemporaryDirectory(prefix: "dkprobe")
        let path = directory.path + "/dead.sock"
        // Bound, never listened on: connect() gets ECONNREFUSED.
        _ = try await run("python3", ["-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", path])
        #expect(SocketProbe.probe(path) == .refused)
        let error = SocketProbe.diagnose(path, transportDetail: "x")
        guard case .daemonUnreachable(_, let detail)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(detail.contains("connection refused"))
    }
}
