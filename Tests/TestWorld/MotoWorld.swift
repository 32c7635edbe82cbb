import CChildProcess
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A running tools/motoworld.py: moto on 127.0.0.1 with IAM users `ci-user` (may only assume
/// `roleArn`) and `admin` (may do anything), and SigV4 + IAM checks on every request.
package final class MotoWorld: Sendable {
    package let endpoint: URL
    package let region: String
    package let accountId: String
    /// ci-user's key: its only permission is sts:AssumeRole on `roleArn`.
    package let userAccessKeyId: String
    package let userSecretAccessKey: String
    /// The `ecr-pusher` role: ecr:* and sts:GetCallerIdentity.
    package let roleArn: String
    /// admin's key: "*" on "*", for test setup (creating repositories, inspecting images).
    package let adminAccessKeyId: String
    package let adminSecretAccessKey: String
    /// public-half's key: ecr-public:GetAuthorizationToken without sts:GetServiceBearerToken (an ECR Public
    /// login AWS refuses).
    package let publicHalfAccessKeyId: String
    package let publicHalfSecretAccessKey: String
    package let pid: Int32
    /// moto's stderr (tracebacks land here).
    package let logPath: String

    private let directory: String
    // Keeps the read end of moto's stdout open so that a late write can't get EPIPE.
    private let stdoutHandle: FileHandle

    package enum Identity: Sendable { case user, admin }

    private struct Ready: Decodable {
        let endpoint: String, region: String, accountId: String
        let userAccessKeyId: String, userSecretAccessKey: String, roleArn: String
        let adminAccessKeyId: String, adminSecretAccessKey: String, pid: Int32
        let publicHalfAccessKeyId: String, publicHalfSecretAccessKey: String
    }

    private init(_ ready: Ready, directory: String, stdoutHandle: FileHandle) {
        endpoint = URL(string: ready.endpoint)!
        region = ready.region
        accountId = ready.accountId
        userAccessKeyId = ready.userAccessKeyId
        userSecretAccessKey = ready.userSecretAccessKey
        roleArn = ready.roleArn
        adminAccessKeyId = ready.adminAccessKeyId
        adminSecretAccessKey = ready.adminSecretAccessKey
        publicHalfAccessKeyId = ready.publicHalfAccessKeyId
        publicHalfSecretAccessKey = ready.publicHalfSecretAccessKey
        pid = ready.pid
        logPath = "\(directory)/moto.log"
        self.directory = directory
        self.stdoutHandle = stdoutHandle
    }

    /// Starts a new moto world on a free port. `extraArgs` go to motoworld.py (see its header).
    package static func start(extraArgs: [String] = []) async throws -> MotoWorld {
        try LiveWorld.require("moto")
        return try await StartupGate.moto.through { try await launch(extraArgs: extraArgs) }
    }

    private static func launch(extraArgs: [String]) async throws -> MotoWorld {
        _ = ignoreSIGPIPE
        let directory = try makeServiceDirectory(prefix: "twm")
        // The shared world (and any a test leaves running) is never stopped: its directory goes at exit.
        WorldCleanup.track(scratch: directory)
        let logPath = "\(directory)/moto.log"
        let arguments =
            [
                try resolveExecutable("python3"), Repo.motoWorldScript, "--port", "0", "--exit-with-parent",
                "--work-dir", "\(directory)/uploads"
            ] + extraArgs
        let (pid, outputHandle) = try ServiceProcess.spawn(arguments, name: "motoworld.py", logPath: logPath)

        let seconds = 90
        guard let line = await firstLine(of: outputHandle, timeout: .seconds(seconds)) else {
            kill(pid, SIGKILL)
            WorldCleanup.untrack(pid: pid)
            throw WorldError.notReady(service: "motoworld.py", seconds: seconds, log: tail(of: logPath))
        }
        guard let ready = try? JSONDecoder().decode(Ready.self, from: Data(line.utf8)) else {
            kill(pid, SIGKILL)
            WorldCleanup.untrack(pid: pid)
            throw WorldError.unexpectedOutput(service: "motoworld.py", output: line + "\n" + tail(of: logPath))
        }
        return MotoWorld(ready, directory: directory, stdoutHandle: outputHandle)
    }

    /// A moto world whose blobs and manifests go to `registry`, with GetAuthorizationToken
    /// pointing at it (proxyEndpoint http://127.0.0.1:PORT, token AWS:<registry password>).
    package static func start(registry: LoopbackRegistry, extraArgs: [String] = []) async throws -> MotoWorld {
        try await start(
            extraArgs: [
                "--registry", registry.url, "--registry-user", registry.username,
                "--registry-password", registry.password, "--proxy-endpoint", registry.url
            ] + extraArgs)
    }

    /// One moto world (without registry) shared by every test of this process. Don't rely on its counts.
    package static func shared() async throws -> MotoWorld {
        try LiveWorld.require("moto")
        return try await SharedWorld.instance.moto()
    }

    /// How many requests of each AWS action moto received (authorized or not), e.g. ["UploadLayerPart": 3].
    package func counts() async throws -> [String: Int] {
        let result = try await runProcess("curl", ["-sS", "--fail", endpoint.appendingPathComponent("_motoworld/counts").absoluteString])
        guard result.status == 0,
            let counts = try? JSONDecoder().decode([String: Int].self, from: result.stdout)
        else {
            throw WorldError.commandFailed(command: "GET /_motoworld/counts", status: result.status, output: result.combinedText)
        }
        return counts
    }

    package func resetCounts() async throws {
        let result = try await runProcess(
            "curl",
            [
                "-sS", "--fail", "-X", "POST",
                endpoint.appendingPathComponent("_motoworld/counts/reset").absoluteString
            ])
        guard result.status == 0 else {
            throw WorldError.commandFailed(command: "POST /_motoworld/counts/reset", status: result.status, output: result.combinedText)
        }
    }

    /// Scripts DescribeImageScanFindings for `repository` once a scan of its image exists: each call answers the
    /// next of `responses` (whole responses: imageScanStatus, imageScanFindings, …), the last one repeated.
    package func scriptScanFindings(repository: String, responses: [[String: any Sendable]]) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["repositoryName": repository, "responses": responses] as [String: Any])
        let result = try await runProcess(
            "curl",
            [
                "-sS", "--fail", "-X", "POST", "-H", "Content-Type: application/json", "--data-binary", "@-",
                endpoint.appendingPathComponent("_motoworld/scan-findings").absoluteString
            ], stdin: body)
        guard result.status == 0 else {
            throw WorldError.commandFailed(command: "POST /_motoworld/scan-findings", status: result.status, output: result.combinedText)
        }
    }

    /// Environment for an AWS SDK or CLI (boto3, aws, ecrpush) talking to this world as `identity`,
    /// isolated from any ~/.aws files.
    package func awsEnvironment(_ identity: Identity) -> [String: String] {
        let (key, secret) =
            identity == .user
            ? (userAccessKeyId, userSecretAccessKey) : (adminAccessKeyId, adminSecretAccessKey)
        return [
            "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": endpoint.absoluteString,
            "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true"
        ]
    }

    /// The containerise.py recipe's variables: an IAM user that may only assume the ECR role.
    package var containeriseEnvironment: [String: String] {
        [
            "AWS_IAM_USER_ACCESS_KEY_ID": userAccessKeyId, "AWS_IAM_USER_SECRET_ACCESS_KEY": userSecretAccessKey,
            "AWS_IAM_ROLE_ARN": roleArn, "AWS_REGION": region, "AWS_ENDPOINT_URL": endpoint.absoluteString
        ]
    }

    /// Stops moto (SIGTERM) and removes its directory.
    package func stop() {
        kill(pid, SIGTERM)
        WorldCleanup.untrack(pid: pid)
        try? FileManager.default.removeItem(atPath: directory)
        WorldCleanup.forget(scratch: directory)
    }
}

/// The first line a process writes, read on a dedicated thread; nil on EOF or timeout.
func firstLine(of handle: FileHandle, timeout: Duration) async -> String? {
    let once = ResumeOnce<String?>()
    return await withCheckedContinuation { continuation in
        once.set(continuation)
        Thread.detachNewThread {
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { once.resume(nil); return }
                buffer.append(chunk)
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    once.resume(String(decoding: buffer[..<newline], as: UTF8.self))
                    return
                }
            }
        }
        let nanoseconds = UInt64(timeout.components.seconds) * 1_000_000_000
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { once.resume(nil) }
    }
}

/// Resumes a continuation exactly once, from whichever thread gets there first.
final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    func set(_ continuation: CheckedContinuation<T, Never>) { lock.withLock { self.continuation = continuation } }
    func resume(_ value: T) {
        let continuation = lock.withLock { () -> CheckedContinuation<T, Never>? in
            defer { self.continuation = nil }
            return self.continuation
        }
        continuation?.resume(returning: value)
    }
}

/// The last lines of a log file, for error messages.
func tail(of path: String, lines: Int = 40) -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no log at \(path))" }
    return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
}
