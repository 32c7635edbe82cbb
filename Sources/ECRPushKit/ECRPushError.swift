import Foundation

/// Failures of the push workflows themselves; AWS, Docker, login (`ECRLoginError`) and input errors pass through unchanged.
package enum ECRPushError: Error, Sendable, CustomStringConvertible {
    case repositoryMissing(repository: String, registry: String)
    case imageTagExists(repository: String, tag: String, detail: String)
    case pushDenied(repository: String, action: String, message: String)
    /// The repository has no image with that tag or digest.
    case imageNotFound(repository: String, image: String)
    /// An immutable tag already names another image (`digest`); `awsCode` when ECR itself said so, `hint` what to do.
    case immutableTagTaken(repository: String, tag: String, digest: String?, awsCode: String?, hint: String)
    /// The scan ended without findings to judge (FAILED, UNSUPPORTED_IMAGE, …); `hint` says what it means.
    case scanUnusable(image: String, status: String, description: String?, hint: String)
    case scanTimedOut(image: String, seconds: Int, status: String)
    case invalidArgument(String)
    /// A BuildKit step failed: its name, BuildKit's error and the last lines it printed.
    case buildStepFailed(step: String, error: String, lastLines: [String])
    case internalInconsistency(String)
    /// A base's layer read for a copy had other bytes than its digest names (`actual`): the copy is not completed.
    case baseLayerMismatch(place: String, digest: String, size: Int64, actual: String)
    /// The build ran a program of another architecture and the kernel could not (no binfmt/QEMU handler):
    /// the Engine's error (`cause`) and how to get emulation. `platform`: the `--platform` asked for, if any.
    case needsEmulation(platform: String?, cause: String)
    /// The Engine built an image for another platform than the one asked for (its config says `built`).
    case platformMismatch(requested: String, built: String)
    /// The push succeeded; only its step outputs could not be written to `$GITHUB_OUTPUT`.
    case pushedButGitHubOutputUnwritable(imageUri: String, path: String, detail: String)

    package var description: String {
        switch self {
        case .repositoryMissing(let repository, let registry):
            return
                "repository '\(repository)' does not exist in registry \(registry). Create it (aws ecr create-repository --repository-name "
                + "\(repository)) or pass --create-repository."
        case .imageTagExists(let repository, let tag, let detail):
            return
                "tag '\(tag)' already exists in repository '\(repository)', which has immutable tags, and points at another image: \(detail). Push "
                + "under a new tag."
        case .pushDenied(let repository, let action, let message):
            return
                "pushing to '\(repository)' was denied (\(action)): \(message). The principal needs ecr:\(action) on the repository; a repository "
                + "policy with an explicit Deny for this principal also causes this."
        case .imageNotFound(let repository, let image):
            return
                "repository '\(repository)' has no image \(repository)\(image). List its images with: aws ecr list-images --repository-name \(repository)"
        case .immutableTagTaken(let repository, let tag, let digest, let awsCode, let hint):
            let code = awsCode.map { " (\($0))" } ?? ""
            return
                "tag '\(tag)' already exists in repository '\(repository)', which has immutable tags, and names \(digest ?? "another image")\(code): "
                + "ECR never moves it. \(hint)"
        case .scanUnusable(let image, let status, let description, let hint):
            let said = description.map { ": \($0)" } ?? ""
            return "the scan of \(image) ended as \(status)\(said). \(hint)"
        case .scanTimedOut(let image, let seconds, let status):
            return
                "the scan of \(image) was still \(status) after \(seconds) s. Wait longer with --timeout (or --scan-timeout), or look later with "
                + "`ecrpush scan \(image) --wait`."
        case .buildStepFailed(let step, let error, let lastLines):
            // As docker buildx reports it: the step, what it printed last, then the cause.
            let output = lastLines.isEmpty ? "" : "\n------\n > \(step):\n" + lastLines.map { "   \($0)" }.joined(separator: "\n") + "\n------"
            return "the build failed at \(step)\(output)\n\(error)"
        case .invalidArgument(let detail), .internalInconsistency(let detail):
            return detail
        case .baseLayerMismatch(let place, let digest, let size, let actual):
            return "\(place) served \(size) bytes with digest \(actual) for blob \(digest); that copy was not completed"
        case .needsEmulation(let platform, let cause):
            let build = platform.map { "The build for \($0)" } ?? "The build"
            return
                "\(cause)\n\(build) runs a program built for another CPU architecture, and this machine cannot run it (exec format error). "
                + "Install QEMU's binfmt handlers (`docker run --privileged --rm tonistiigi/binfmt --install all`, or the qemu-user-static "
                + "and binfmt-support packages), or build this platform on a runner of that architecture."
        case .platformMismatch(let requested, let built):
            return
                "the image built for --platform \(requested) is \(built) (its config says so): the Engine did not build for the platform asked "
                + "for. The classic builder ignores --platform for FROM scratch (and for a base it holds for one platform only): build with "
                + "BuildKit (--builder buildkit), or on a runner of that platform."
        case .pushedButGitHubOutputUnwritable(let imageUri, let path, let detail):
            // A CI log reader must see first that the image is in the registry: pushing again is not the fix.
            return
                "the image was pushed: \(imageUri) (its references are on stdout). Only the step outputs (image, digest, registry) were not "
                + "written: cannot append to the GITHUB_OUTPUT file \(path): \(detail). Later steps that read them will not find them: "
                + "fix GITHUB_OUTPUT (a writable file, as GitHub Actions sets it) or take the image reference from stdout."
        }
    }
}
