import DockerEngine

/// Turns the registry's words, as the Docker daemon relays them, into errors that say what to do.
enum PushFailureClassifier {
    static func classify(message: String, repository: String, tag: String, registry: String) -> Error {
        let lowered = message.lowercased()
        if lowered.contains("name unknown") || lowered.contains("does not exist in the registry") {
            return ECRPushError.repositoryMissing(repository: repository, registry: registry)
        }
        if lowered.contains("already exists") && lowered.contains("immutable") {
            return ECRPushError.imageTagExists(repository: repository, tag: tag, detail: message)
        }
        if lowered.contains("denied") || lowered.contains("not authorized to perform") {
            return ECRPushError.pushDenied(
                repository: repository, action: deniedAction(in: message) ?? "push",
                message: message)
        }
        return DockerError.pushFailed(message: message)
    }

    /// `... is not authorized to perform: ecr:InitiateLayerUpload on resource ...` → `InitiateLayerUpload`.
    static func deniedAction(in message: String) -> String? {
        guard let range = message.range(of: "perform: ecr:") else { return nil }
        let action = message[range.upperBound...].prefix { $0.isLetter }
        return action.isEmpty ? nil : String(action)
    }
}
