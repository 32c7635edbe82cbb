import Foundation
import HTTPTransport
import TestWorld
import Testing

/// Proxies come from the standard environment variables, read by curl; unix-socket requests, and requests that
/// bypass proxies (the AWS metadata endpoints), never use them.
///
/// Changing the environment of this (multi-threaded, parallel-testing) process would race with every other
/// test, so the check runs in a child copy of this test binary started with `http_proxy` set: the same test
/// function, in its child role, makes the requests. The loopback server plays the proxy: a proxied request
/// reaches it with an absolute request target.
@Suite struct ProxyEnvironmentTests {
    static let socketVariable = "ECRPUSH_HTTP_PROXY_PROBE_SOCKET"
    static let portVariable = "ECRPUSH_HTTP_PROXY_PROBE_PORT"

    @Test func environmentProxyIsUsedExceptForUnixSockets() async throws {
        if let socketPath = ProcessInfo.processInfo.environment[Self.socketVariable] {
            try await checkInsideProxiedEnvironment(socketPath: socketPath)
            return
        }

        let server = try await LoopbackServer.start(unixSocket: true)
        defer { server.stop() }
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().hasSuffix("_proxy") }
        environment["http_proxy"] = "http://127.0.0.1:\(server.info.port)"
        let socketPath: String = try #require(server.info.unix)
        environment[Self.socketVariable] = socketPath
        environment[Self.portVariable] = String(server.info.port)
        let childEnvironment = environment

        let outputPath = NSTemporaryDirectory() + "http-proxy-child-\(UUID().uuidString).log"
        let output = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer {
            close(output)
            unlink(outputPath)
        }
        let arguments = [
            CommandLine.arguments[0], "--testing-library", "swift-testing",
            "--filter", "environmentProxyIsUsedExceptForUnixSockets"
        ]
        let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32?, any Error>) in
            Thread {
                continuation.resume(
                    with: Result {
                        BackgroundProcess.waitForExit(
                            try BackgroundProcess.spawn(
                                arguments, environment: childEnvironment,
                                stdout: output, stderr: output))
                    })
            }.start()
        }
        let childOutput = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        #expect(status == 0, "the child test run failed:\n\(childOutput)")
        #expect(childOutput.contains("environmentProxyIsUsedExceptForUnixSockets"), "the child ran no test:\n\(childOutput)")
    }

    /// The child role: `http_proxy` points at the loopback server.
    private func checkInsideProxiedEnvironment(socketPath: String) async throws {
        let client = HTTPClient()
        // No such host exists: only the proxy can answer.
        let proxied = try await client.send(HTTPRequest(url: "http://registry.invalid/echo?via=proxy")).echo()
        #expect(proxied.target == "http://registry.invalid/echo?via=proxy")
        #expect(proxied.server == "primary")

        let direct = try await client.send(
            HTTPRequest(
                url: "http://registry.invalid/echo?via=socket",
                unixSocketPath: socketPath)
        ).echo()
        #expect(direct.target == "/echo?via=socket")
        #expect(direct.server == "unix")

        // The same loopback server over TCP, as a metadata endpoint is reached: straight, not through the proxy
        // (a proxied request would carry the absolute URL as its target).
        let port = try #require(ProcessInfo.processInfo.environment[Self.portVariable])
        var metadata = HTTPRequest(url: "http://127.0.0.1:\(port)/echo?via=direct")
        metadata.bypassesProxy = true
        let straight = try await client.send(metadata).echo()
        #expect(straight.target == "/echo?via=direct")
        let viaProxy = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(port)/echo?via=default")).echo()
        #expect(viaProxy.target == "http://127.0.0.1:\(port)/echo?via=default", "without the flag, loopback is proxied too")
    }
}
