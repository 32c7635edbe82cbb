import AWSCore
import DockerEngine
import ECR
import Foundation
import SigV4
import Synchronization
import TestWorld
import Testing

@testable import ECRPushKit

/// The push workflow against the loopback world, below the CLI.
@Suite struct PushWorkflowTests {
    /// A login that a long build has brought close to its expiry is fetched again before pushing.
    @Test func expiringLoginIsRenewedBeforePushing() async throws {
        let registry = try await LoopbackRegistry.shared()
        let daemon = try await DockerDaemon.shared()
        let moto = try await MotoWorld.start(registry: registry)
        defer { moto.stop() }
        let context = AWSContext(
            region: moto.region, endpoints: EndpointConfiguration(globalURL: moto.endpoint.absoluteString),
            credentialProvider: StaticCredentialProvider(
                Credentials(accessKeyId: moto.adminAccessKeyId, secretAccessKey: moto.adminSecretAccessKey),
                source: "test"))
        var workflow = PushWorkflow(ecr: ECRClient(context: context), docker: DockerClient(socketPath: daemon.socketPath))
        let destination = PushDestination(
            repository: "renewal-\(UInt32.random(in: 0...UInt32.max))", tags: ["1"],
            createRepository: RepositoryCreation())
        let login = try await workflow.login(for: destination)
        let repository = try await workflow.ensureRepository(destination, registry: login.registry) { _ in }
        // Twelve hours from now is "about to expire" when the clock says it is 11h45 later.
        workflow.now = { Date().addingTimeInterval(11 * 3600 + 45 * 60) }
        let notes = Mutex<[String]>([])
        let pushed = try await workflow.push(
            localImage: DockerDaemon.baseImage, destination: destination, repository: repository,
            login: login
        ) { event in
            if case .info(let text) = event { notes.withLock { $0.append(text) } }
        }
        #expect(pushed.digest.hasPrefix("sha256:"))
        #expect(notes.withLock { $0 }.contains { $0.contains("getting a new one") })
        #expect(try await moto.counts()["GetAuthorizationToken"] == 2)
    }
}
