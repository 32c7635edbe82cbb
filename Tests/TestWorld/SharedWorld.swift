import Foundation

/// The services shared by all tests of one process, each started once however many tests ask
/// at the same time (the first caller starts it, the others await the same task).
actor SharedWorld {
    static let instance = SharedWorld()

    private var registryTask: Task<LoopbackRegistry, Error>?
    private var dockerTask: Task<DockerDaemon, Error>?
    private var motoTask: Task<MotoWorld, Error>?

    func registry() async throws -> LoopbackRegistry {
        if registryTask == nil { registryTask = Task { try await LoopbackRegistry.start() } }
        return try await registryTask!.value
    }

    func docker() async throws -> DockerDaemon {
        if dockerTask == nil { dockerTask = Task { try await DockerDaemon.start() } }
        return try await dockerTask!.value
    }

    func moto() async throws -> MotoWorld {
        if motoTask == nil { motoTask = Task { try await MotoWorld.start() } }
        return try await motoTask!.value
    }
}
