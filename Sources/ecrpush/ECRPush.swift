import ArgumentParser
import Foundation
import HTTPTransport
import Hashing

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
            TagCommand.self,
            CopyCommand.self,
            ScanCommand.self,
            CacheCommand.self,
            DoctorCommand.self
        ])

    /// The same binary is also `docker-credential-ecrpush` (a link made by `make install`): chosen by its name.
    static func main() async {
        _ = Console.started
        // Before any thread can touch libcrypto: an early exit must not free its state under libcurl's loader.
        CryptoLibrary.keepStateUntilExit()
        // The last path component by hand: Foundation's URL parser costs a noticeable part of a warm helper `get`.
        let invokedAs = (CommandLine.arguments.first ?? "ecrpush").split(separator: "/").last.map(String.init) ?? "ecrpush"
        if invokedAs.hasPrefix("docker-credential-") {
            Foundation.exit(await CredentialHelperEntry.run(arguments: Array(CommandLine.arguments.dropFirst())))
        }
        // A stdout or stderr whose reader went away gives EPIPE, which stops the command with its cleanup
        // (`Console.write`), rather than SIGPIPE's death, which would leave temporary files and the relay's names.
        // (swift-nio's listener would ignore it anyway, but only once a relay listens.) Children start with the default.
        signal(SIGPIPE, SIG_IGN)
        // A command that makes requests loads libcurl before its first one needs it. A push whose login starts
        // ahead loads it here, before the arguments are parsed (8-15 ms), and its AssumeRole leaves a few
        // milliseconds sooner (measured): dlopen takes 4-5 ms alone but up to 10-12 beside the parse on two cores.
        // Other commands load it on a thread of its own while the arguments are parsed.
        let arguments = Array(CommandLine.arguments.dropFirst())
        let namedAhead = EngineAhead.start(arguments: arguments)
        if LoginAhead.start(arguments: arguments) {
            HTTPClient.loadNow()
        } else if let subcommand = arguments.first, requestingSubcommands.contains(subcommand) {
            HTTPClient.loadInBackground()
        }
        // A push that names its image for the relay ahead takes signals over before the parse: one that comes while
        // the command line is read must not kill the process before that name is removed.
        let early = namedAhead ? CommandProgress(command: "push") : nil
        let earlyInterruption = early.map { Interruption.install(progress: $0) }
        let command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            await EngineAhead.undo()
            exit(withError: error)
        }
        let progress = early ?? CommandProgress(command: type(of: command).configuration.commandName ?? "command")
        // Before the command does anything: from here on SIGINT, SIGTERM and SIGHUP cancel its task (the process is
        // never killed mid-push with its temporary files left).
        let interruption = earlyInterruption ?? Interruption.install(progress: progress)
        // Detached: the command runs off the main actor, as it did when main() ran it directly.
        let task = Task.detached {
            try await CommandProgress.$current.withValue(progress) {
                var command = command
                if var asyncCommand = command as? AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            }
        }
        interruption.cancelOnSignal(task)
        let result = await task.result
        // The relay's name made ahead, where no push took it (another command line, another way, a failure).
        await EngineAhead.undo()
        await interruption.finish(completed: (try? result.get()) != nil)
        if case .failure(let error) = result { exit(withError: error) }
        // Done, but its output did not all reach stdout (a full disk behind `> file`): a script must not take that
        // for success. EX_IOERR.
        if let failure = Console.failure(of: STDOUT_FILENO) {
            Console.err(
                "ecrpush: error: the \(progress.command)'s output could not be written to stdout (\(String(cString: strerror(failure)))); "
                    + "the \(progress.command) itself completed")
            Foundation.exit(74)
        }
    }
}

extension ECRPush {
    /// Subcommands certain to make a request (to AWS, a registry or the Engine, all through libcurl). Not `login`,
    /// which a warm token cache answers without one, nor `cache` or help.
    static let requestingSubcommands: Set<String> = ["push", "build-and-push", "build", "tag", "copy", "scan", "whoami", "doctor"]
}

enum ECRPushVersion {
    static let current = "0.1.0"
}
