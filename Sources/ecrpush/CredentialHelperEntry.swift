import ECRLogin
import Foundation

/// The docker-credential-helpers protocol entry point (`docker-credential-ecrpush get|list|store|erase|version`).
/// The work is `CredentialHelper`'s; this writes its answer and returns the exit status.
enum CredentialHelperEntry {
    static func run(arguments: [String]) async -> Int32 {
        let action = arguments.first
        // Every action but version reads stdin (store and erase only to drain it, as docker expects).
        let input = action == "version" ? Data() : ((try? FileHandle.standardInput.readToEnd()) ?? Data())
        let environment = ProcessInfo.processInfo.environment
        // $HOME first (and no user-database lookup, a noticeable part of a warm get).
        let helper = CredentialHelper(
            environment: environment, homeDirectory: homeDirectory(environment),
            version: ECRPushVersion.current)
        let output = await helper.run(action: action, input: input)
        if !output.stdout.isEmpty { Console.write(output.stdout, to: STDOUT_FILENO) }
        if !output.stderr.isEmpty { Console.write(output.stderr, to: STDERR_FILENO) }
        return output.exitCode
    }
}
