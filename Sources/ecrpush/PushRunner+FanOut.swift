import AWSCredentials
import ArgumentParser
import DockerEngine
import ECR
import ECRLogin
import ECRPushKit
import Foundation
import HTTPTransport

extension PushRunner {
    /// `--registry` or `--repository` repeated (every registry × every repository), or several `--platform`: one read
    /// of each image, uploaded to every destination. One destination: the result as any push prints it (the index's
    /// references, each platform's image). Several: each destination's result on stdout (its tag references and
    /// digest reference), each failure on stderr, exit 1 unless all succeeded.
    func runFanOut(
        contextDirectory: String?, renderer: ProgressRenderer, onEvent: @escaping @Sendable (WorkflowEvent) -> Void,
        produceImage: ImageProducer
    ) async throws {
        let environment = ProcessInfo.processInfo.environment
        let docker = try DockerClient(environment: environment)
        _ = try await docker.ping()
        let abandonedNames = Self.removeAbandonedRelayNames(docker: docker, renderer: renderer)
        var destinations: [ImagePush.FanOutDestination] = []
        var firstWorkflow: PushWorkflow?
        var firstResolved: ResolvedAWS?
        let registries: [(name: String?, target: RegistryTarget?)] =
            destinationOptions.registry.isEmpty
            ? [(nil, nil)]
            : Array(zip(destinationOptions.registry.map { Optional($0) }, try destinationOptions.registryTargets().map { Optional($0) }))
        for (group, (name, target)) in registries.enumerated() {
            // One ECR client per registry (its account, region, credentials), shared by its repositories.
            let resolved = try await aws.resolve(http: LoginAhead.http, for: target)
            let workflow = PushWorkflow(ecr: ECRClient(context: resolved.context), docker: docker)
            firstWorkflow = firstWorkflow ?? workflow
            firstResolved = firstResolved ?? resolved
            for repository in destinationOptions.repositories {
                let (destination, note) = destinationOptions.destination(
                    defaultTagFrom: contextDirectory, target: target, registry: name, repository: repository)
                try destination.validate()
                if let note, destinations.isEmpty { renderer.handle(.info(note)) }
                destinations.append(ImagePush.FanOutDestination(workflow: workflow, destination: destination, loginGroup: group))
            }
        }
        guard let firstWorkflow, let firstResolved, let first = destinations.first else { return }
        let result = try await ImagePush.fanOut(
            destinations, platforms: platforms, existingLocalImage: existingLocalImage, skipExisting: gateOptions.skipExisting,
            transport: transportOptions.transport.imagePushTransport, settings: transportOptions.exportSettings(environment: environment),
            http: transportOptions.registryHTTP(),
            retryPolicy: transportOptions.retryPolicy, sources: sourceRegistries(resolved: firstResolved, environment: environment),
            produceImage: { registry, platform in try await produceImage(firstWorkflow, first.destination, registry, platform, renderer) },
            onEvent: onEvent)
        renderer.finishBuild()
        await abandonedNames.value
        if destinations.count == 1, let outcome = result.outcomes.first {
            try report(
                try outcome.result.get(), alreadyPushed: result.alreadyPushed, platforms: result.platforms, indexMediaType: result.indexMediaType)
            return
        }
        let pushed = result.outcomes.compactMap { try? $0.result.get() }
        let failures = result.outcomes.compactMap { outcome -> FanOutFailure? in
            guard case .failure(let error) = outcome.result else { return nil }
            return FanOutFailure(destination: outcome.destination.description, error: "\(error)")
        }
        switch outputOptions.output {
        case .text:
            for image in pushed { for line in image.stdoutLines { Console.out(line) } }
            if !outputOptions.quiet, !pushed.isEmpty {
                for image in result.platforms { Console.err("\(image.platform): \(image.digest) (in every destination)") }
            }
        case .json:
            var output = FanOutOutput(digest: pushed.first?.digest, images: pushed, failures: failures)
            if !result.platforms.isEmpty {
                output.mediaType = result.indexMediaType
                output.platforms = result.platforms
            }
            Console.out(try JSONOutput.encode(output))
        }
        for failure in failures { Console.err("ecrpush: error: \(failure.destination): \(failure.error)") }
        if !failures.isEmpty {
            Console.err("ecrpush: \(pushed.count) of \(result.outcomes.count) destinations have the image")
            throw ExitCode.failure
        }
    }
}

/// `--output json` of a push to several destinations: the one digest, every image pushed, every destination that
/// failed; for several platforms the index's media type and each platform's image.
struct FanOutOutput: Encodable {
    var digest: String?
    var images: [PushedImage]
    var failures: [FanOutFailure]
    var mediaType: String?
    var platforms: [PlatformImage]?
}

struct FanOutFailure: Encodable {
    var destination: String
    var error: String
}
