import ArgumentParser
import Foundation

@main
struct ECRPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecrpush",
        abstract: "Build container images and push them to Amazon ECR.",
        version: ECRPushVersion.current,
        subcommands: [
            LoginCommand.self,
            WhoAmICommand.self,
            BuildCommand.self,
            PushCommand.self,
            BuildAndPushCommand.self,
            CacheCommand.self,
            DoctorCommand.self,
        ])

    /// The same binary is also `docker-credential-ecrpush` (a link made by `make install`): chosen by its name.
    static func main() async {
        let invokedAs = URL(fileURLWithPath: CommandLine.arguments.first ?? "ecrpush").lastPathComponent
        if invokedAs.hasPrefix("docker-credential-") {
            Foundation.exit(await CredentialHelperEntry.run(arguments: Array(CommandLine.arguments.dropFirst())))
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

enum ECRPushVersion {
    static let current = "0.1.0"
}
