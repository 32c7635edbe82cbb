import Foundation
import HTTPTransport
import Testing

/// Transport failures come back as the HTTPError case a caller can act on.
@Suite struct FailureTests {
    let client = HTTPClient()

    /// A loopback port nothing listens on (bound, then released).
    private func unusedPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw LoopbackServer.ServerFailure(description: "could not bind a probe socket") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func refusedConnectionNamesTheURL() async throws {
        let url = "http://127.0.0.1:\(try unusedPort())/v2/"
        let error = await #expect(throws: HTTPError.self) { try await client.send(HTTPRequest(url: url)) }
        guard case .couldNotConnect(let failedURL, let detail) = error else {
            Issue.record("expected couldNotConnect, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url)
        #expect(!detail.isEmpty)
        #expect(error?.description.contains(url) == true)
    }

    @Test func missingUnixSocketCannotConnect() async throws {
        let socketPath = "/tmp/ecrpush-http-test-missing-\(UUID().uuidString.prefix(8)).sock"
        let error = await #expect(throws: HTTPError.self) {
            try await client.send(HTTPRequest(url: "http://localhost/v1.41/_ping", unixSocketPath: socketPath))
        }
        guard case .couldNotConnect(let url, let detail) = error else {
            Issue.record("expected couldNotConnect, got \(String(describing: error))")
            return
        }
        #expect(url == "http://localhost/v1.41/_ping")
        #expect(detail.contains("\(socketPath) does not exist"))

        // A path that exists but is no socket.
        let plainFile = NSTemporaryDirectory() + "http-not-a-socket-\(UUID().uuidString)"
        try Data("x".utf8).write(to: URL(fileURLWithPath: plainFile))
        defer { try? FileManager.default.removeItem(atPath: plainFile) }
        let notSocket = await #expect(throws: HTTPError.self) {
            try await client.send(HTTPRequest(url: "http://localhost/_ping", unixSocketPath: plainFile))
        }
        guard case .couldNotConnect(_, let notSocketDetail) = notSocket else {
            Issue.record("expected couldNotConnect, got \(String(describing: notSocket))")
            return
        }
        #expect(notSocketDetail.contains("is not a unix socket"))
    }

    @Test func totalTimeoutStopsASlowResponse() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let clock = ContinuousClock()
        let start = clock.now

        let error = await #expect(throws: HTTPError.self) {
            try await client.send(HTTPRequest(url: server.url("/slow?delay=120"), timeout: 1))
        }
        guard case .timedOut(let url, _) = error else {
            Issue.record("expected timedOut, got \(String(describing: error))")
            return
        }
        #expect(url == server.url("/slow?delay=120"))
        #expect(start.duration(to: clock.now) < .seconds(60), "the 1 s timeout, not the answer two minutes later")
    }

    @Test func connectTimeoutStopsAHangingConnect() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.connectTimeout = 1
        let client = HTTPClient(configuration: configuration)

        let url = "http://127.0.0.1:\(server.info.blackholePort)/"
        let error = await #expect(throws: HTTPError.self) { try await client.send(HTTPRequest(url: url)) }
        guard case .timedOut(let failedURL, let detail) = error else {
            Issue.record("expected timedOut, got \(String(describing: error))")
            return
        }
        #expect(failedURL == url)
        // curl says which timeout ended it ("... after 1001 ms: Timeout was reached"): the configured second, not the
        // 10 s default. (Wall time alone can't tell on a loaded machine, where this task may wait its turn.)
        #expect(detail.range(of: #"after 1\d\d\d ms"#, options: .regularExpression) != nil, "\(detail)")
    }

    @Test func lowSpeedLimitStopsATrickle() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.lowSpeedLimit = 1000
        configuration.lowSpeedTime = 1
        let client = HTTPClient(configuration: configuration)

        let error = await #expect(throws: HTTPError.self) {
            try await client.send(HTTPRequest(url: server.url("/trickle?count=40&interval=0.5")))
        }
        guard case .timedOut = error else {
            Issue.record("expected timedOut, got \(String(describing: error))")
            return
        }
    }

    @Test func cancellingTheTaskAbortsAWaitingTransfer() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let clock = ContinuousClock()
        let start = clock.now

        // The answer would take two minutes: getting `.cancelled` well before that shows the transfer was aborted
        // (the bound is generous: a loaded CI machine once needed 10 s to get there).
        let task = Task { try await client.send(HTTPRequest(url: server.url("/slow?delay=120"))) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.result
        guard case .failure(let error as HTTPError) = result, case .cancelled(let url) = error else {
            Issue.record("expected cancelled, got \(result)")
            return
        }
        #expect(url == server.url("/slow?delay=120"))
        #expect(start.duration(to: clock.now) < .seconds(60))
    }

    /// A connect that hangs (a port that never answers) is aborted by cancelling too, long before a 5-minute
    /// connect timeout would end it (the bound is generous: a loaded 2-core machine delays the test's own task).
    @Test func cancellingTheTaskAbortsAHangingConnect() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        var configuration = HTTPClient.Configuration()
        configuration.connectTimeout = 300
        let patient = HTTPClient(configuration: configuration)
        let clock = ContinuousClock()
        let start = clock.now
        let url = "http://127.0.0.1:\(server.info.blackholePort)/"
        let task = Task { try await patient.send(HTTPRequest(url: url)) }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.result
        guard case .failure(let error as HTTPError) = result, case .cancelled = error else {
            Issue.record("expected cancelled, got \(result)")
            return
        }
        #expect(start.duration(to: clock.now) < .seconds(60))
    }

    @Test func cancellingTheTaskAbortsAStalledDownloadAndUpload() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        let received = Box(0)
        let download = Task {
            try await client.send(
                HTTPRequest(url: server.url("/stall?size=100000&sent=10")),
                onBody: { chunk in received.mutate { $0 += chunk.count } })
        }
        // A producer that never ends (chunked), feeding slowly.
        let upload = Task {
            try await client.send(
                HTTPRequest(
                    method: "POST", url: server.url("/echo"),
                    body: .stream(length: nil) { buffer in
                        Thread.sleep(forTimeInterval: 0.01)
                        buffer[0] = 0x61
                        return 1
                    }))
        }
        try await Task.sleep(for: .milliseconds(500))
        download.cancel()
        upload.cancel()
        for result in [await download.result.map { _ in () }, await upload.result.map { _ in () }] {
            guard case .failure(let error as HTTPError) = result, case .cancelled = error else {
                Issue.record("expected cancelled, got \(result)")
                continue
            }
        }
        #expect(received.value == 10)
    }

    @Test func alreadyCancelledTaskSendsNothing() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.send(HTTPRequest(url: server.url("/echo")))
        }
        let result = await task.result
        guard case .failure(let error as HTTPError) = result, case .cancelled = error else {
            Issue.record("expected cancelled, got \(result)")
            return
        }
    }

    @Test func throwingCallbacksBecomeBodyCallbackFailed() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }

        func expectCallbackFailure(_ reason: String, _ send: () async throws -> Void) async {
            let error = await #expect(throws: HTTPError.self) { try await send() }
            guard case .bodyCallbackFailed(_, let underlying) = error else {
                Issue.record("expected bodyCallbackFailed for \(reason), got \(String(describing: error))")
                return
            }
            #expect((underlying as? TestCallbackError)?.reason == reason || reason == "short")
        }

        await expectCallbackFailure("sink") {
            try await client.send(
                HTTPRequest(url: server.url("/bytes?size=1000000")),
                onBody: { _ in throw TestCallbackError(reason: "sink") })
        }
        await expectCallbackFailure("head") {
            try await client.send(
                HTTPRequest(url: server.url("/bytes?size=1000")),
                onHead: { _ in throw TestCallbackError(reason: "head") }, onBody: { _ in })
        }
        await expectCallbackFailure("producer") {
            _ = try await client.send(
                HTTPRequest(
                    method: "PUT", url: server.url("/echo"),
                    body: .stream(length: 100) { _ in throw TestCallbackError(reason: "producer") }))
        }
        // A producer that ends before the announced length.
        await expectCallbackFailure("short") {
            _ = try await client.send(
                HTTPRequest(
                    method: "PUT", url: server.url("/echo"),
                    body: .stream(length: 100) { buffer in
                        0
                    }))
        }
        // The server is still fine for the next request.
        #expect(try await client.send(HTTPRequest(url: server.url("/echo"))).status == 200)
    }
}
