import AWSCore
import Foundation
import HTTPTransport
import STS
import SigV4
import TestWorld
import Testing

@Suite struct RetryAndSkewTests {
    /// A machine whose clock is an hour behind: moto refuses the signature and sends its Date; one corrected
    /// retry goes through.
    @Test func skewedClockIsCorrectedOnce() async throws {
        let moto = try await MotoWorld.start()
        defer { moto.stop() }
        var context = STSAndECRClientTests.context(moto, STSAndECRClientTests.userCredentials(moto))
        context.clock = ClockSkew(initialOffset: -3600)
        let identity = try await STSClient(context: context).getCallerIdentity()
        #expect(identity.arn.hasSuffix(":user/ci-user"))
        #expect(abs(context.clock.currentOffset) < 120, "the offset was learned from the server's Date")
    }

    /// Throttling and 5xx answers are retried with backoff; the third attempt succeeds.
    @Test func throttlingAndServerErrorsAreRetried() async throws {
        let server = try await FlakyServer.start(failures: ["503", "throttle"])
        defer { server.stop() }
        let context = AWSContext(
            region: "us-east-1", endpoints: EndpointConfiguration(globalURL: server.url),
            credentialProvider: StaticCredentialProvider(Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x"), source: "test"),
            retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01))
        let identity = try await STSClient(context: context).getCallerIdentity()
        #expect(identity.account == "123456789012")
        #expect(try server.requestCount() == 3)
    }

    @Test func retriesStopAtMaxAttempts() async throws {
        let server = try await FlakyServer.start(failures: ["503", "503", "503", "503"])
        defer { server.stop() }
        let context = AWSContext(
            region: "us-east-1", endpoints: EndpointConfiguration(globalURL: server.url),
            credentialProvider: StaticCredentialProvider(Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x"), source: "test"),
            retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01))
        await #expect(throws: AWSError.self) { try await STSClient(context: context).getCallerIdentity() }
        #expect(try server.requestCount() == 2)
    }
}

/// A loopback STS stand-in that fails the first requests as told ("503" or "throttle"), then answers
/// GetCallerIdentity. It counts requests in a file the test reads.
final class FlakyServer: Sendable {
    let url: String
    let pid: Int32
    let countFile: String

    static let script = """
        import http.server, sys, os
        failures = sys.argv[1].split(",") if sys.argv[1] else []
        count_file = sys.argv[2]
        state = {"n": 0}
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                n = state["n"]; state["n"] += 1
                open(count_file, "w").write(str(state["n"]))
                if n < len(failures):
                    if failures[n] == "503":
                        body, status = b"<ErrorResponse><Error><Code>ServiceUnavailable</Code><Message>busy</Message></Error></ErrorResponse>", 503
                    else:
                        body, status = b"<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>", 400
                else:
                    body, status = (b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/x</Arn>"
                                    b"<UserId>AID</UserId><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"), 200
                self.send_response(status); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
        server = http.server.HTTPServer(("127.0.0.1", 0), H)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    init(url: String, pid: Int32, countFile: String) {
        self.url = url
        self.pid = pid
        self.countFile = countFile
    }

    static func start(failures: [String]) async throws -> FlakyServer {
        let countFile = NSTemporaryDirectory() + "flaky-\(UInt32.random(in: 0...UInt32.max))"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, failures.joined(separator: ","), countFile]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let handle = output.fileHandleForReading
        let port: String = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                var line = Data()
                while let byte = try? handle.read(upToCount: 1), let first = byte.first, first != 0x0a { line.append(first) }
                continuation.resume(returning: String(decoding: line, as: UTF8.self))
            }
        }
        guard Int(port) != nil else { throw AWSError.invalidConfiguration("flaky server did not start") }
        return FlakyServer(url: "http://127.0.0.1:\(port)", pid: process.processIdentifier, countFile: countFile)
    }

    func requestCount() throws -> Int {
        Int(try String(contentsOfFile: countFile, encoding: .utf8)) ?? 0
    }

    func stop() {
        kill(pid, SIGKILL)
        unlink(countFile)
    }
}
