import ArgumentParser

@main
struct ECRPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecrpush",
        abstract: "Build container images and push them to Amazon ECR.",
        version: ECRPushVersion.current,
        subcommands: [LoginCommand.self, WhoAmICommand.self, BuildCommand.self, PushCommand.self, BuildAndPushCommand.self])
}

enum ECRPushVersion {
    static let current = "0.1.0"
}
