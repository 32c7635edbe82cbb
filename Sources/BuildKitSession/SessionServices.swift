import Foundation
import SwiftProtobuf

/// The gRPC methods the session serves to the Engine, and what each answers.
struct SessionServices: Sendable {
    static let healthCheck = "/grpc.health.v1.Health/Check"
    static let getSecret = "/moby.buildkit.secrets.v1.Secrets/GetSecret"
    static let credentials = "/moby.filesync.v1.Auth/Credentials"
    static let checkAgent = "/moby.sshforward.v1.SSH/CheckAgent"
    /// A stream, not a unary call: `GRPCStreamHandler` hands it to `AgentForwardStream`.
    static let forwardAgent = "/moby.sshforward.v1.SSH/ForwardAgent"
    /// The gRPC metadata that names the agent a `ForwardAgent` stream is for.
    static let agentIDHeader = "buildkit.ssh.id"

    let secrets: [String: BuildSecret]
    let credentialProvider: RegistryCredentialProvider?
    var sshAgents: [String: SSHAgent] = [:]
    let environment: [String: String]
    let onEvent: @Sendable (SessionEvent) -> Void

    /// Announced to the Engine when the session opens (`X-Docker-Expose-Session-Grpc-Method`); BuildKit calls
    /// only what is announced for some services, and anything else gets UNIMPLEMENTED.
    var methods: [String] {
        [Self.healthCheck, Self.getSecret] + (credentialProvider == nil ? [] : [Self.credentials])
            + (sshAgents.isEmpty ? [] : [Self.checkAgent, Self.forwardAgent])
    }

    func handle(path: String, request: [UInt8]) async -> GRPCOutcome {
        do {
            switch path {
            case Self.healthCheck:
                var response = Grpc_Health_V1_HealthCheckResponse()
                response.status = .serving
                return .message(try response.serializedBytes())
            case Self.getSecret:
                let ask = try Moby_Buildkit_Secrets_V1_GetSecretRequest(serializedBytes: request)
                return secret(ask.id)
            case Self.credentials:
                let ask = try Moby_Filesync_V1_CredentialsRequest(serializedBytes: request)
                return await credentials(for: ask.host)
            case Self.checkAgent where !sshAgents.isEmpty:
                let ask = try Moby_Sshforward_V1_CheckAgentRequest(serializedBytes: request)
                return checkAgent(ask.id.isEmpty ? SSHAgent.defaultID : ask.id)
            default:
                return .failure(.unimplemented, "ecrpush does not serve \(path)")
            }
        } catch {
            return .failure(.internalError, "could not read the request for \(path): \(error)")
        }
    }

    private func secret(_ id: String) -> GRPCOutcome {
        guard let secret = secrets[id] else {
            onEvent(.secretMissing(id: id))
            // NOT_FOUND is what BuildKit expects for an unknown id: an optional secret mount is then skipped.
            return .failure(.notFound, "secret \(id) not found")
        }
        do {
            var response = Moby_Buildkit_Secrets_V1_GetSecretResponse()
            response.data = Data(try secret.value(environment: environment))
            onEvent(.secretServed(id: id))
            return .message(try response.serializedBytes())
        } catch let error as BuildKitError {
            onEvent(.secretMissing(id: id))
            return .failure(.notFound, error.description)
        } catch {
            return .failure(.internalError, "secret \(id) could not be encoded")
        }
    }

    /// BuildKit asks once per `--mount=type=ssh` before the step runs. NOT_FOUND lets an optional mount
    /// (`required=false`) go on without the agent and fails a required one with the id in the message.
    private func checkAgent(_ id: String) -> GRPCOutcome {
        guard let agent = sshAgents[id] else {
            onEvent(.sshAgentMissing(id: id))
            return .failure(.notFound, "no SSH agent '\(id)' was forwarded (ecrpush --ssh \(id)=SOCKET)")
        }
        guard SSHAgent.isSocket(agent.socketPath) else {
            let reason = "\(agent.socketPath) is not a socket (is the agent still running?)"
            onEvent(.sshAgentFailed(id: id, reason: reason))
            return .failure(.unavailable, "SSH agent '\(id)': \(reason)")
        }
        onEvent(.sshAgentChecked(id: id))
        do {
            return .message(try Moby_Sshforward_V1_CheckAgentResponse().serializedBytes())
        } catch {
            return .failure(.internalError, "could not encode the answer for SSH agent '\(id)'")
        }
    }

    private func credentials(for host: String) async -> GRPCOutcome {
        guard let credentialProvider else { return .failure(.unimplemented, "no registry logins in this session") }
        do {
            var response = Moby_Filesync_V1_CredentialsResponse()
            if let login = try await credentialProvider(host) {
                response.username = login.username
                response.secret = login.secret
                onEvent(.credentialsServed(host: host))
            } else {
                // Empty credentials: BuildKit pulls anonymously.
                onEvent(.credentialsAnonymous(host: host))
            }
            return .message(try response.serializedBytes())
        } catch {
            let reason = String(describing: error)
            onEvent(.credentialsFailed(host: host, reason: reason))
            return .failure(.unavailable, "no login for \(host): \(reason)")
        }
    }
}
