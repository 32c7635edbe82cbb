import DockerEngine
import ECR
import ECRLogin
import Foundation
import RegistryClient
import Synchronization

/// One destination of a fan-out push, logged in and its repository checked.
struct FanOutTarget: Sendable {
    var number: Int
    var entry: ImagePush.FanOutDestination
    var login: RegistryLogin
    var repository: Repository
    var push: RegistryPush

    var registryName: String { login.registry }
    var location: RepositoryLocation { RepositoryLocation(registry: registryName, repository: entry.destination.repository) }
    var side: ImageCopy.Side { ImageCopy.Side(client: push.registry, repository: entry.destination.repository) }
}

/// `--transport auto` for one image to several destinations: the base's layers are got into every destination
/// first (mounted or copied, as `FanOutPush` does), then `TransportEstimate.fanOut` chooses. When little is new
/// (the everyday push of a small layer on a base every destination holds), the Engine pushes to the first
/// destination (a fraction of a second: it skips what the registry has) and that image, manifest and blobs byte
/// for byte, is copied from there into the others: one digest everywhere, and no export of the whole image, which
/// costs seconds before its first byte. Otherwise, and when the base is still being copied after the probe time,
/// `FanOutPush` reads the image once for all, taking the base's layers from the look-up already under way.
struct FanOutThroughEngine: Sendable {
    let targets: [FanOutTarget]
    let fanOut: FanOutPush
    let settings: ExportSettings
    let tags: [String]

    func push(localImage: String, onEvent: @escaping @Sendable (WorkflowEvent) -> Void) async throws -> FanOutPush.Report {
        var fanOut = self.fanOut
        let inspected = try await fanOut.docker.requireImage(localImage)
        // zstd is ecrpush's compression; an image the blob cache knows everywhere is not read at all.
        guard settings.compression == .gzip, targets.count > 1, !rememberedEverywhere(inspected) else {
            return FanOutPush.Report(outcomes: try await fanOut.push(localImage: localImage, tags: tags, onEvent: onEvent))
        }
        let ancestor = settings.reuseBaseLayers ? try await fanOut.ancestor(of: inspected) : nil
        let (lookup, ended) = (fanOut, Ended<[String: KnownLayer]>())
        let base = Task { () async throws -> [String: KnownLayer] in
            let known = await lookup.knownBaseLayers(of: inspected, ancestor: ancestor, onEvent: onEvent)
            ended.set(known)
            return known
        }
        defer { base.cancel() }  // handed to FanOutPush, which awaits it, or over already
        // As for one destination: a base copied in a moment is waited for, a slow copy goes on beside ecrpush's push.
        // A base in every destination's registry is not: its mounts are the Engine's path too, whatever their pace
        // (under load they once took longer than the probe time, and `auto` read the whole image for a small layer).
        let inAncestorsRegistry = ancestor.map { ancestor in targets.allSatisfy { $0.registryName == ancestor.registry } } ?? false
        let known = try await ended.value(within: ancestor == nil || inAncestorsRegistry ? 0 : settings.copyProbeSeconds)
        var rates = TransportEstimate.Rates()
        rates.uploadBytesPerSecond = settings.uploadRate?.bytesPerSecond
        let chosen = TransportEstimate.fanOut(
            image: inspected, ancestor: ancestor, knownEverywhere: ancestor == nil ? [:] : known, destinations: targets.count,
            inAncestorsRegistry: inAncestorsRegistry, rates: rates)
        onEvent(.info(chosen.description))
        fanOut.baseLayersUnderWay = base
        guard chosen.path == .daemon else {
            return FanOutPush.Report(outcomes: try await fanOut.push(localImage: localImage, tags: tags, onEvent: onEvent))
        }
        // Now: the Engine need not write the image out beside its own push. Should that push fail, ecrpush's asks anew.
        fanOut.exportAhead?.cancel()
        fanOut.exportAhead = nil
        fanOut.announce(onEvent)
        fanOut.announced = true
        let lead = targets[0]
        let pushed: PushedImage
        do {
            pushed = try await lead.entry.workflow.push(
                localImage: localImage, inspected: inspected, destination: lead.entry.destination, repository: lead.repository, login: lead.login,
                onEvent: onEvent)
        } catch {
            try Task.checkCancellation()
            // The Engine's failure is not ecrpush's: its own push may well succeed.
            onEvent(.info("The Engine's push to \(lead.location) failed (\(error)); ecrpush's push to every destination instead"))
            return FanOutPush.Report(outcomes: try await fanOut.push(localImage: localImage, tags: tags, onEvent: onEvent))
        }
        var outcomes = [FanOutPush.Outcome(destination: lead.location, result: .success(pushed))]
        outcomes += await copies(of: pushed.digest, from: lead, onEvent: onEvent)
        return FanOutPush.Report(outcomes: outcomes)
    }

    /// The lead's image copied into every other destination: registries at the same time; within one, into its first
    /// repository from the lead (a mount in the lead's own registry), then mounted from there into the others.
    private func copies(
        of digest: String, from lead: FanOutTarget, onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) async -> [FanOutPush.Outcome] {
        let byRegistry = Array(targets.dropFirst()).groupedInOrder { $0.registryName }
        let (tags, jobs) = (self.tags, settings.jobs)
        let results = await withTaskGroup(of: [(Int, FanOutPush.Outcome)].self) { group in
            for members in byRegistry {
                group.addTask {
                    var source = members[0].registryName == lead.registryName ? lead.side : nil
                    var results: [(Int, FanOutPush.Outcome)] = []
                    for member in members {
                        do {
                            var copy = ImageCopy(source: source ?? lead.side, destination: member.side)
                            (copy.jobs, copy.saysDigests) = (jobs, false)
                            let image = try await copy.copy(digest, tags: tags, onEvent: Self.numbered(member.number, onEvent))
                            source = source ?? member.side
                            results.append((member.number, FanOutPush.Outcome(destination: member.location, result: .success(image))))
                        } catch {
                            onEvent(.info("Destination \(member.number + 1) (\(member.location)) failed: \(error); the others go on"))
                            results.append((member.number, FanOutPush.Outcome(destination: member.location, result: .failure(error))))
                        }
                    }
                    return results
                }
            }
            var all: [(Int, FanOutPush.Outcome)] = []
            for await results in group { all += results }
            return all
        }
        return results.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Blob lines said as a fan-out says them: `<blob>@<destination number>`.
    private static func numbered(
        _ number: Int, _ onEvent: @escaping @Sendable (WorkflowEvent) -> Void
    ) -> @Sendable (WorkflowEvent) -> Void {
        { event in
            guard case .push(var push) = event, let id = push.id else { return onEvent(event) }
            push.id = "\(id)@\(number + 1)"
            onEvent(.push(push))
        }
    }

    private func rememberedEverywhere(_ image: ImageInspect) -> Bool {
        targets.allSatisfy { RememberedImage(cache: settings.blobCache, image: image, registry: settings.cacheScope($0.registryName)) != nil }
    }
}

/// A value some task sets once, looked at by another for a while.
private final class Ended<Value: Sendable>: Sendable {
    private let state = Mutex<Value?>(nil)

    func set(_ value: Value) { state.withLock { $0 = value } }

    /// The value once set, waiting at most `seconds` for it (nil after that).
    func value(within seconds: Double) async throws -> Value? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while true {
            if let value = state.withLock({ $0 }) { return value }
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
