import ArgumentParser
import ECR
import ECRLogin
import ECRPushKit
import Foundation
import HTTPTransport

/// `ecrpush tag REPO:EXISTING NEW…`: more tags on an image already in ECR, through the ECR API alone.
struct TagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tag",
        abstract: "Add tags to an image already in ECR, without moving a byte.",
        discussion: """
            Reads the image's manifest (BatchGetImage) and puts the same bytes under each new tag (PutImage): no registry login, no \
            blob is read or sent, the digest is unchanged. A tag that already names the image is left as it is; in a repository \
            with immutable tags, a tag that names another image is an error (ImageTagAlreadyExistsException). Needs \
            ecr:BatchGetImage, ecr:DescribeImages, ecr:DescribeRepositories and ecr:PutImage.
              ecrpush tag team/app:v1.2.3 prod stable
              ecrpush tag team/app@sha256:… v1.2.3
            """)

    @Argument(help: ArgumentHelp("The image: REPOSITORY:TAG or REPOSITORY@sha256:DIGEST (optionally after its registry).", valueName: "image"))
    var source: String

    @Argument(help: ArgumentHelp("Tags to add (in the same repository).", valueName: "new-tag"))
    var newTags: [String]

    @OptionGroup var location: ImageLocationOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var aws: AWSOptions

    func validate() throws {
        let image = try ImageArgument(parsing: source)
        guard !newTags.isEmpty else { throw ValidationError("name at least one tag to add") }
        for tag in newTags {
            if tag.contains(":") || tag.contains("/") || tag.contains("@") {
                throw ValidationError("\(tag): give new tags alone (e.g. v2), in the image's repository \(image.repository)")
            }
            if !ECRValidation.isImageTag(tag) { throw ValidationError(ECRError.invalidImageTag(tag).description) }
        }
        try aws.checkSettings(for: [try location.target(for: image)])
    }

    func run() async throws {
        try await Console.run {
            let image = try ImageArgument(parsing: source)
            let located = try await LocatedRepository.find(image, location: location, aws: aws)
            let renderer = ProgressRenderer(quiet: output.quiet)
            let progress = CommandProgress.current
            progress?.show(on: renderer)
            let tagged = try await ImageTagging(ecr: located.ecr).addTags(
                newTags, to: image.image, repository: image.repository, registryId: located.registryId, registry: located.registry
            ) { event in
                progress?.record(event)
                renderer.handle(event)
            }
            switch output.output {
            case .text: for line in tagged.stdoutLines { Console.out(line) }
            case .json: Console.out(try JSONOutput.encode(tagged))
            }
        }
    }
}

/// The repository an image argument names, with the ECR client for its registry (account, region, credentials).
struct LocatedRepository {
    var ecr: ECRClient
    var repository: Repository
    var registryId: String?
    /// The registry host for image references: the target's, else the repository's URI's.
    var registry: String?

    static func find(_ image: ImageArgument, location: ImageLocationOptions, aws: AWSOptions) async throws -> LocatedRepository {
        let target = try location.target(for: image)
        let resolved = try await aws.resolve(http: HTTPClient(), for: target)
        let ecr = ECRClient(context: resolved.context)
        let registryId = location.registryId ?? target?.registryId
        guard let repository = try await ecr.findRepository(image.repository, registryId: registryId) else {
            throw ECRPushError.repositoryMissing(
                repository: image.repository, registry: target?.dockerRegistry ?? registryId.map { "of account \($0)" } ?? "of your account")
        }
        let registry = target?.dockerRegistry ?? repository.registryHost
        return LocatedRepository(ecr: ecr, repository: repository, registryId: registryId, registry: registry)
    }
}
