import Foundation
import Testing

@testable import BuildKitSession

/// The parts of the session that need no Engine: framing, the upgrade request, what each method answers.
@Suite struct SessionTests {
    @Test func grpcFramingAndMessages() {
        #expect(GRPCFraming.frame([1, 2, 3]) == [0, 0, 0, 0, 3, 1, 2, 3])
        #expect(GRPCFraming.firstMessage([0, 0, 0, 0, 2, 9, 8, 7]) == [9, 8])
        #expect(GRPCFraming.firstMessage([0, 0, 0, 0, 5, 9]) == nil)
        #expect(GRPCFraming.firstMessage([1, 0, 0, 0, 0]) == nil, "compressed messages are not asked for")
        #expect(GRPCFraming.percentEncoded("no login: 100% é") == "no login: 100%25 %C3%A9")
    }

    @Test func upgradeRequestAnnouncesTheSessionAndItsMethods() {
        let id = BuildSession.randomID()
        #expect(id.count == 25 && id.allSatisfy { $0.isLowercase || $0.isNumber })
        let request = String(decoding: BuildSession.upgradeRequest(id: id, apiVersion: "1.41", methods: ["/a/B", "/c/D"]), as: UTF8.self)
        #expect(request.hasPrefix("POST /v1.41/session HTTP/1.1\r\n"))
        #expect(request.hasSuffix("\r\n\r\n"))
        for line in [
            "Upgrade: h2c", "Connection: Upgrade", "X-Docker-Expose-Session-Uuid: \(id)", "X-Docker-Expose-Session-Grpc-Method: /a/B",
            "X-Docker-Expose-Session-Grpc-Method: /c/D"
        ] {
            #expect(request.contains("\r\n\(line)\r\n"))
        }
        #expect(H2CUpgradeHandler.status(of: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c") == 101)
        #expect(H2CUpgradeHandler.status(of: "garbage") == nil)
    }

    @Test func secretsAreServedByIdAndMissingOnesAreNotFound() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bk-secret-\(UUID().uuidString)").path
        try Data("from-file".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let events = Events()
        let services = SessionServices(
            secrets: [
                "f": BuildSecret(id: "f", source: .file(file)), "e": BuildSecret(id: "e", source: .environment("TOKEN")),
                "gone": BuildSecret(id: "gone", source: .file(file + ".missing"))
            ],
            credentialProvider: nil, environment: ["TOKEN": "from-env"], onEvent: { events.append($0) })
        #expect(!services.methods.contains(SessionServices.credentials))

        for (id, expected) in [("f", "from-file"), ("e", "from-env")] {
            var request = Moby_Buildkit_Secrets_V1_GetSecretRequest()
            request.id = id
            guard case .message(let bytes) = await services.handle(path: SessionServices.getSecret, request: try request.serializedBytes()) else {
                Issue.record("no answer for \(id)")
                continue
            }
            #expect(String(decoding: try Moby_Buildkit_Secrets_V1_GetSecretResponse(serializedBytes: bytes).data, as: UTF8.self) == expected)
        }
        for id in ["unknown", "gone"] {
            var request = Moby_Buildkit_Secrets_V1_GetSecretRequest()
            request.id = id
            guard
                case .failure(let status, let message) = await services.handle(
                    path: SessionServices.getSecret, request: try request.serializedBytes())
            else {
                Issue.record("\(id) was answered")
                continue
            }
            #expect(status == .notFound)
            #expect(!message.contains("from-file"))
        }
        #expect(events.all == [.secretServed(id: "f"), .secretServed(id: "e"), .secretMissing(id: "unknown"), .secretMissing(id: "gone")])

        guard case .message(let health) = await services.handle(path: SessionServices.healthCheck, request: []) else {
            Issue.record("no health answer")
            return
        }
        #expect(health == [0x08, 0x01], "SERVING")
        guard case .failure(.unimplemented, _) = await services.handle(path: "/moby.sshforward.v1.SSH/CheckAgent", request: []) else {
            Issue.record("an unknown method must be UNIMPLEMENTED")
            return
        }
    }

    @Test func credentialsComeFromTheProviderOrAreEmpty() async throws {
        let services = SessionServices(
            secrets: [:],
            credentialProvider: { host in host == "registry.example:5000" ? RegistryCredential(username: "AWS", secret: "pw") : nil },
            environment: [:], onEvent: { _ in })
        #expect(services.methods.contains(SessionServices.credentials))
        for (host, user, secret) in [("registry.example:5000", "AWS", "pw"), ("elsewhere", "", "")] {
            var request = Moby_Filesync_V1_CredentialsRequest()
            request.host = host
            guard case .message(let bytes) = await services.handle(path: SessionServices.credentials, request: try request.serializedBytes()) else {
                Issue.record("no answer for \(host)")
                continue
            }
            let response = try Moby_Filesync_V1_CredentialsResponse(serializedBytes: bytes)
            #expect(response.username == user && response.secret == secret)
        }
    }
}

final class Events: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [SessionEvent] = []

    func append(_ event: SessionEvent) { lock.withLock { events.append(event) } }
    var all: [SessionEvent] { lock.withLock { events } }
}

/// SSH agent forwarding's pure parts: cutting streams into messages, what a build may ask, CheckAgent's answers.
@Suite struct SSHAgentForwardingTests {
    @Test func messagesComeOutWholeWhateverTheChunks() throws {
        let stream = SSHAgentProtocol.framed([11]) + SSHAgentProtocol.framed([13, 1, 2, 3]) + [0, 0, 0, 9, 1]
        var reader = LengthPrefixedReader.agent()
        var messages: [[UInt8]] = []
        for byte in stream {
            reader.append([byte])
            while let message = try reader.next() { messages.append(message) }
        }
        #expect(messages == [[11], [13, 1, 2, 3]])
        #expect(!reader.isEmpty, "the third message is not whole yet")

        var tooLong = LengthPrefixedReader.agent()
        tooLong.append([0, 0x10, 0, 1])
        #expect(throws: LengthPrefixedReader.Failure.tooLong(0x10_0001)) { _ = try tooLong.next() }

        var grpc = LengthPrefixedReader.grpc()
        grpc.append(GRPCFraming.frame([7, 8]) + [1, 0, 0, 0, 0])
        #expect(try grpc.next() == [7, 8])
        #expect(throws: LengthPrefixedReader.Failure.compressed) { _ = try grpc.next() }
    }

    @Test func onlyListingAndSigningReachTheAgent() {
        #expect(SSHAgentProtocol.isAllowed([11]))
        #expect(SSHAgentProtocol.isAllowed([13, 0, 0]))
        // Add, remove, remove all, lock, unlock, add constrained, extension; and an empty message.
        for type: UInt8 in [17, 18, 19, 22, 23, 25, 27] { #expect(!SSHAgentProtocol.isAllowed([type]), "type \(type)") }
        #expect(!SSHAgentProtocol.isAllowed([]))
        #expect(SSHAgentProtocol.failureReply == SSHAgentProtocol.framed([5]))
    }

    @Test func checkAgentAnswersByIdAndSocket() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ssh-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let notASocket = directory + "/file"
        try Data().write(to: URL(fileURLWithPath: notASocket))
        let events = Events()
        var services = SessionServices(secrets: [:], credentialProvider: nil, environment: [:], onEvent: { events.append($0) })
        #expect(!services.methods.contains(SessionServices.checkAgent))
        services.sshAgents = ["default": SSHAgent(socketPath: notASocket)]
        #expect(services.methods.contains(SessionServices.checkAgent) && services.methods.contains(SessionServices.forwardAgent))

        func check(_ id: String) async throws -> GRPCOutcome {
            var request = Moby_Sshforward_V1_CheckAgentRequest()
            request.id = id
            return await services.handle(path: SessionServices.checkAgent, request: try request.serializedBytes())
        }
        guard case .failure(.notFound, let missing) = try await check("deploy") else {
            Issue.record("an id not given must be NOT_FOUND")
            return
        }
        #expect(missing.contains("--ssh deploy=SOCKET"))
        guard case .failure(.unavailable, let unreachable) = try await check("") else {
            Issue.record("a file that is not a socket must be UNAVAILABLE")
            return
        }
        #expect(unreachable.contains("not a socket"))
        #expect(events.all.first == .sshAgentMissing(id: "deploy"))
    }
}
