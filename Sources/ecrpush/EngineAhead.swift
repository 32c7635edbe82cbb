import DockerEngine
import ECR
import ECRPushKit
import Foundation

/// `push`'s first reads of the Engine (its image, the image's history, the local images its base is found among)
/// and the relay's listener, started while ArgumentParser reads the command line (13-20 ms of a push that lasts
/// 0.2 s): none depends on the command line but the image's name. The push's own reads then take those answers
/// (`EngineReadsAhead`), and its relay the listener (`EngineRelayPush.listenAhead`). One change is made ahead, and
/// undone unless the push takes it: the image's name for the relay (`RelayNameAhead`), from the repository and
/// first tag the command line names.
enum EngineAhead {
    /// The image `push` names, where the command line gives it right after the subcommand (`push app:v4 …`, as every
    /// example does): an option's value there is never taken for it. nil where nothing should start early: another
    /// subcommand, `--debug` (whose trace shows each request as the command makes it), `--help`, or
    /// `ECRPUSH_LOGIN_AHEAD=0`, which turns off every request ahead.
    static func image(in arguments: [String], environment: [String: String]) -> String? {
        guard environment["ECRPUSH_LOGIN_AHEAD"] != "0", arguments.count > 1, arguments[0] == "push" else { return nil }
        guard !arguments.contains(where: { ["--debug", "--help", "-h"].contains($0) }) else { return nil }
        return arguments[1].hasPrefix("-") ? nil : arguments[1]
    }

    /// Whether the push may go through the relay: the Engine's push is not ruled out (`--transport registry`, ecrpush's
    /// own push whatever the image; `--no-engine-relay`) and the Engine is on a unix socket (one on `tcp://` has a
    /// loopback of its own). `auto`, `daemon` and `ecr-api` may all have the Engine push to the relay.
    static func mayRelay(_ arguments: [String], environment: [String: String], host: DockerHost) -> Bool {
        host.socketPath != nil && !LoginAhead.values(of: "--transport", in: arguments).contains("registry")
            && !arguments.contains("--no-engine-relay") && environment["ECRPUSH_ENGINE_RELAY"] != "0"
    }

    /// The repository and tag of the relay's name for a push to one repository of one registry under the tags the
    /// command line gives (the first one is the relay's), which may go through the relay: nil for the rest (a
    /// fan-out, `--skip-existing`, zstd layers, no `--tag`), where the push would not take the name.
    static func relayName(in arguments: [String]) -> (repository: String, tag: String)? {
        let repositories = LoginAhead.values(of: "--repository", in: arguments)
        let compression = LoginAhead.values(of: "--compression", in: arguments)
        guard repositories.count == 1, LoginAhead.values(of: "--registry", in: arguments).count <= 1,
            let tag = LoginAhead.values(of: "--tag", in: arguments).first, !arguments.contains("--skip-existing"),
            compression.allSatisfy({ $0 == "gzip" }),
            ECRValidation.isRepositoryName(repositories[0]), ECRValidation.isImageTag(tag)
        else { return nil }
        return (repositories[0], tag)
    }

    /// Starts what `push` may do early; true when that includes the image's name for the relay, which `undo` removes
    /// unless the push took it.
    @discardableResult
    static func start(arguments: [String]) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        guard let image = image(in: arguments, environment: environment), let host = try? DockerHost.fromEnvironment(environment) else {
            return false
        }
        // `--transport daemon` looks for no ancestor (the Engine knows where its layers came from).
        let ancestor = !LoginAhead.values(of: "--transport", in: arguments).contains("daemon") && !arguments.contains("--no-base-layers")
        let docker = DockerClient(host: host)
        Task {
            await EngineReadsAhead.$recording.withValue(true) {
                // The version first: reads sent together would each negotiate it.
                guard (try? await docker.apiVersion()) != nil else { return }
                async let inspected = try? docker.inspectImage(image)
                async let candidates = ancestor ? try? RegistryAncestor.gather(docker: docker, for: image) : nil
                _ = await (inspected, candidates)
            }
        }
        guard mayRelay(arguments, environment: environment, host: host) else { return false }
        EngineRelayPush.listenAhead()
        guard let (repository, tag) = relayName(in: arguments) else { return false }
        return EngineRelayPush.nameAhead(docker: docker, source: image, repository: repository, tag: tag)
    }

    /// Removes the image's name for the relay made ahead that no push took; before the process exits, whatever way.
    static func undo() async { await RelayNameAhead.current.undo() }
}
