import DockerEngine
import ECRPushKit
import Foundation

/// `push`'s first reads of the Engine (its image, the image's history, the local images its base is found among)
/// and the relay's listener, started while ArgumentParser reads the command line (13-20 ms of a push that lasts
/// 0.2 s): none depends on the command line but the image's name. The push's own reads then take those answers
/// (`EngineReadsAhead`), and its relay the listener (`EngineRelayPush.listenAhead`). Nothing that changes the Engine
/// is started ahead.
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

    static func start(arguments: [String]) {
        let environment = ProcessInfo.processInfo.environment
        guard let image = image(in: arguments, environment: environment), let host = try? DockerHost.fromEnvironment(environment) else {
            return
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
        if mayRelay(arguments, environment: environment, host: host) { EngineRelayPush.listenAhead() }
    }
}
