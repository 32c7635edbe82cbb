import AWSCore
import AWSCredentials
import ArgumentParser
import BuildKitSession
import DockerEngine
import ECR
import ECRLogin
import ECRPushKit
import Foundation
import HTTPTransport
import ImageExport
import RegistryClient

/// `ecrpush build`: a docker build through the Engine API.
struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build an image with the Docker Engine.")

    @OptionGroup var build: BuildOptionGroup
    @Option(name: [.customShort("t"), .customLong("tag")], help: "Name and tag for the image (repeatable).")
    var tags: [String] = []
    @Flag(name: [.short, .long], help: "No build output on stderr.")
    var quiet = false

    func validate() throws {
        for tag in tags {
            do { _ = try ImageReference(parsing: tag) } catch { throw ValidationError("-t \(tag): \(error)") }
        }
        if try build.platformList() != nil {
            throw ValidationError(
                "--platform \(build.platform ?? ""): `ecrpush build` gives one image to the Engine, which cannot hold a multi-platform "
                    + "index; give one platform, or build and push them all with `ecrpush build-and-push --platform \(build.platform ?? "")`")
        }
    }

    func run() async throws {
        try await Console.run {
            let docker = try DockerClient(environment: ProcessInfo.processInfo.environment)
            let renderer = ProgressRenderer(quiet: quiet || build.progress == .quiet, live: build.progress.live)
            CommandProgress.current?.show(on: renderer)
            defer { renderer.finishBuild() }
            let result = try await ImageBuilder(docker: docker).build(
                context: build.buildContext, options: try build.buildOptions(extraTags: tags), builder: build.builder,
                buildKit: try build.buildKitSettings()
            ) { renderer.handle($0) }
            renderer.finishBuild()
            Console.out(result.imageID)
        }
    }
}

/// `ecrpush push`: tag a local image for the registry and push it.
struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Push a local image to ECR.")

    @Argument(help: "Local image (name[:tag] or id).")
    var image: String
    @OptionGroup var destination: DestinationOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var transport: TransportOptions
    @OptionGroup var gate: PushGateOptions
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        let targets = try destination.registryTargets()
        try aws.checkSettings(for: targets.isEmpty ? [nil] : targets)
        try transport.checkFanOut(destinations: destination.destinationCount, platforms: 1)
        try gate.checkFanOut(destinations: destination.destinationCount, platforms: 1)
    }

    func run() async throws {
        try await Console.run {
            try await PushRunner(
                aws: aws, destinationOptions: destination, outputOptions: output, transportOptions: transport, gateOptions: gate,
                existingLocalImage: image
            )
            .run(contextDirectory: FileManager.default.currentDirectoryPath) { _, _, _, _, _ in image }
        }
    }
}

/// `ecrpush build-and-push`: the containerise.py chain.
struct BuildAndPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-and-push",
        abstract: "Build an image and push it to ECR (assume role, ECR login, build, push).")

    @OptionGroup var build: BuildOptionGroup
    @OptionGroup var destination: DestinationOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var transport: TransportOptions
    @OptionGroup var gate: PushGateOptions
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        let targets = try destination.registryTargets()
        try aws.checkSettings(for: targets.isEmpty ? [nil] : targets)
        let platforms = try build.platformList()?.count ?? 1
        try transport.checkFanOut(destinations: destination.destinationCount, platforms: platforms)
        try gate.checkFanOut(destinations: destination.destinationCount, platforms: platforms)
    }

    func run() async throws {
        try await Console.run {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: build.context, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw DockerError.contextMissing(path: build.context)
            }
            var runner = PushRunner(
                aws: aws, destinationOptions: destination, outputOptions: output, transportOptions: transport, gateOptions: gate,
                progressMode: build.progress)
            runner.platforms = try build.platformList() ?? []
            try await runner.run(contextDirectory: build.context) { workflow, destination, registry, platform, renderer in
                defer { renderer.finishBuild() }
                var options = try build.buildOptions()
                var untagged = destination
                if let platform {
                    // One of several platforms: the Engine builds that one; the image stays untagged (the tags will name
                    // the index, which the Engine cannot hold).
                    options.platform = platform.description
                    untagged.tags = []
                }
                let destination = untagged
                // A base image from the destination registry is pulled with this command's own login to it.
                let destinationLogin: @Sendable () async throws -> RegistryCredential = {
                    let login = try await workflow.login(for: destination)
                    return RegistryCredential(username: login.username, secret: login.password)
                }
                let result = try await workflow.build(
                    context: build.buildContext, options: options, destination: destination, registry: registry,
                    builder: build.builder, buildKit: try build.buildKitSettings(known: [RegistryHost.hostAndPort(of: registry): destinationLogin])
                ) {
                    renderer.handle($0)
                }
                return result.imageID
            }
        }
    }
}
