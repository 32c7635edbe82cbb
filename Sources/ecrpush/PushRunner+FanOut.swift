import ArgumentParser
import DockerEngine
import ECR
import ECRPushKit
import Foundation
import HTTPTransport

extension PushRunner {
    /// `--registry` repeated: one read of the image, uploaded to every registry; each destination's result on stdout
    /// (its tag references and digest reference), each failure on stderr, exit 1 unless all succeeded.
    func runFanOut(
        contextDirectory: String?, renderer: ProgressRenderer, onEvent: @escaping @Sendable (WorkflowEvent) -> Void,
        produceImage: ImageProducer
    ) async throws {
        let environment = ProcessInfo.processInfo.environment
        let docker = try DockerClient(environment: environment)
        _ = try await docker.ping()
        var destinations: [ImagePush.FanOutDestination] = []
        var firstWorkflow: PushWorkflow?
        for (name, target) in zip(destinationOptions.registry, try destinationOptions.registryTargets()) {
            let (destination, note) = destinationOptions.destination(defaultTagFrom: contextDirectory, target: target, registry: name)
            try destination.validate()
            if let note, destinations.isEmpty { renderer.handle(.info(note)) }
            let resolved = try await aws.resolve(http: HTTPClient(), for: target)
            let workflow = PushWorkflow(ecr: ECRClient(context: resolved.context), docker: docker)
            firstWorkflow = firstWorkflow ?? workflow
            destinations.append(ImagePush.FanOutDestination(workflow: workflow, destination: destination))
        }
        guard let firstWorkflow, let first = destinations.first else { return }
        let outcomes = try await ImagePush.fanOut(
            destinations, settings: transportOptions.exportSettings(environment: environment), http: transportOptions.registryHTTP(),
            retryPolicy: transportOptions.retryPolicy,
            produceImage: { registry in try await produceImage(firstWorkflow, first.destination, registry, renderer) }, onEvent: onEvent)
        let pushed = outcomes.compactMap { try? $0.result.get() }
        let failures = outcomes.compactMap { outcome -> FanOutFailure? in
            guard case .failure(let error) = outcome.result else { return nil }
            return FanOutFailure(destination: outcome.destination.description, error: "\(error)")
        }
        switch outputOptions.output {
        case .text: for image in pushed { for line in image.stdoutLines { Console.out(line) } }
        case .json: Console.out(try JSONOutput.encode(FanOutOutput(digest: pushed.first?.digest, images: pushed, failures: failures)))
        }
        for failure in failures { Console.err("ecrpush: error: \(failure.destination): \(failure.error)") }
        if !failures.isEmpty {
            Console.err("ecrpush: \(pushed.count) of \(outcomes.count) destinations have the image")
            throw ExitCode.failure
        }
    }
}

/// `--output json` of a push to several registries: the one digest, every image pushed, every destination that failed.
struct FanOutOutput: Encodable {
    var digest: String?
    var images: [PushedImage]
    var failures: [FanOutFailure]
}

struct FanOutFailure: Encodable {
    var destination: String
    var error: String
}
