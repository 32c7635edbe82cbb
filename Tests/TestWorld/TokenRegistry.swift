import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A distribution registry with token auth, as Docker Hub has: `/v2/` answers 401 with a Bearer challenge naming
/// tools/tokenserver.py, which gives anonymous clients pull-only tokens and `username` (with its password) all
/// they ask for. Stop it with `stop()`.
package struct TokenRegistry: Sendable {
    package let registry: LoopbackRegistry
    /// The token server's pid.
    let tokenServer: pid_t
    let logPath: String

    package var hostPort: String { registry.hostPort }

    package static func start(username: String = "hub") async throws -> TokenRegistry {
        try LiveWorld.require("the loopback registry with token auth")
        let directory = try makeServiceDirectory(prefix: "twt")
        WorldCleanup.track(directory: directory)
        let keygen = try await runProcess(
            "openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(directory)/token.key", "-out", "\(directory)/token.crt",
                "-days", "2", "-subj", "/CN=loopback-tokens"
            ])
        guard keygen.status == 0 else { throw WorldError.commandFailed(command: "openssl req", status: keygen.status, output: keygen.combinedText) }
        let password = randomHex(bytes: 16)
        _ = FileManager.default.createFile(
            atPath: "\(directory)/users", contents: Data("\(username):\(password)\n".utf8), attributes: [.posixPermissions: 0o600])
        let logPath = "\(directory)/tokenserver.log"
        let (pid, output) = try ServiceProcess.spawn(
            [
                try resolveExecutable("python3"), Repo.tokenServerScript, "--key", "\(directory)/token.key", "--cert", "\(directory)/token.crt",
                "--issuer", "loopback-tokens", "--users-file", "\(directory)/users", "--exit-with-parent"
            ], name: "tokenserver.py", logPath: logPath)
        guard let line = await firstLine(of: output, timeout: .seconds(30)), line.hasPrefix("READY "), let port = Int(line.dropFirst(6)) else {
            kill(pid, SIGKILL)
            throw WorldError.notReady(service: "tokenserver.py", seconds: 30, log: tail(of: logPath))
        }
        do {
            let registryPort = try freePort()
            let result = try await runProcess(
                Repo.worldScript, ["registry", directory, String(registryPort), "--token", "http://127.0.0.1:\(port)/token"],
                environment: WorldCleanup.ownerEnvironment)
            guard result.status == 0 else {
                throw WorldError.commandFailed(command: "world.sh registry --token", status: result.status, output: result.combinedText)
            }
            let registry = LoopbackRegistry(host: "127.0.0.1", port: registryPort, username: username, password: password, directory: directory)
            return TokenRegistry(registry: registry, tokenServer: pid, logPath: logPath)
        } catch {
            kill(pid, SIGKILL)
            throw error
        }
    }

    /// The token server's log: one line per token asked for (`token: USER|anonymous ACCESS`), never a password.
    package func tokenLog() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    package func stop() async {
        kill(tokenServer, SIGTERM)
        await registry.stop()
    }
}
