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
            DoctorCommand.self
        ])

    /// The same binary is also `docker-credential-ecrpush` (a link made by `make install`): chosen by its name.
    static func main() async {
        // The last path component by hand: Foundation's URL parser costs a noticeable part of a warm helper `get`.
        let invokedAs = (CommandLine.arguments.first ?? "ecrpush").split(separator: "/").last.map(String.init) ?? "ecrpush"
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
