import DockerEngine
import Foundation
import Synchronization
import TestWorld
import Testing

@testable import ECRPushKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a forced exit does with the relay's names still in the Engine (`RelayNames.removeLeft`), on the loopback
/// dockerd: removes them, the names that came with them included, and says which it could not remove in time.
@Suite struct RelayNamesTests {
    /// `removeLeft` as a forced exit calls it: on a thread of its own, not one of Swift's pool.
    static func removeLeft(_ names: RelayNames, timeout: Duration) async -> [String] {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: names.removeLeft(timeout: timeout)) }.start()
        }
    }

    @Test func aForcedExitRemovesEveryNameLeftAndThoseThatCameWithThem() async throws {
        let docker = DockerClient(socketPath: try await DockerDaemon.shared().socketPath)
        let source = try await RelayNameAheadTests.source(docker)
        defer { Task { try? await docker.removeImage(source) } }
        let port = Int.random(in: 40_000...49_999)
        let name = "127.0.0.1:\(port)/team/app"
        try await docker.tag(source: source, repository: name, tag: "v1")
        // Stands for the digest's name, which the Engine records once its push ends (a tag cannot make one).
        try await docker.tag(source: source, repository: name, tag: "v1-pushed")
        let names = RelayNames()
        names.made("\(name):v1", in: docker) { ["\(name):v1-pushed"] }
        // Removed by the push already: no longer the Engine's, and not said to be left.
        names.made("\(name):v0", in: docker)
        #expect(names.current == ["\(name):v0", "\(name):v1", "\(name):v1-pushed"])

        let left = await Self.removeLeft(names, timeout: .seconds(30))
        #expect(left.isEmpty, "\(left)")
        #expect(try await RelayNameAheadTests.relayNames(docker, source, port: port).isEmpty)
        #expect(names.current.isEmpty)
        #expect(await Self.removeLeft(names, timeout: .seconds(30)).isEmpty, "nothing twice")
    }

    @Test func aNameThePushRemovedIsNotTouchedAgain() async throws {
        let docker = DockerClient(socketPath: try await DockerDaemon.shared().socketPath)
        let source = try await RelayNameAheadTests.source(docker)
        defer { Task { try? await docker.removeImage(source) } }
        let port = Int.random(in: 40_000...49_999)
        let names = RelayNames()
        names.made("127.0.0.1:\(port)/team/app:v1", in: docker)
        names.removed("127.0.0.1:\(port)/team/app:v1")
        // Tagged again since (another push of this process would record it again): the forced exit leaves it.
        try await docker.tag(source: source, repository: "127.0.0.1:\(port)/team/app", tag: "v1")
        defer { Task { try? await docker.removeImage("127.0.0.1:\(port)/team/app:v1") } }
        #expect(await Self.removeLeft(names, timeout: .seconds(30)).isEmpty)
        #expect(try await RelayNameAheadTests.relayNames(docker, source, port: port) == ["127.0.0.1:\(port)/team/app:v1"])
    }

    /// The CI failure this guards against: the Engine had written the relay's name, its answer had not reached the
    /// push yet, and a second signal's forced exit found nothing recorded and left the name. The name is recorded
    /// before the request goes, and the exit waits for the answer before it removes the name.
    @Test func aNameTheEngineWritesWhileTheExitBeginsIsRemovedOnceItAnswers() async throws {
        let engine = try await DockerDaemon.shared().socketPath
        let docker = DockerClient(socketPath: engine)
        let source = try await RelayNameAheadTests.source(docker)
        defer { Task { try? await docker.removeImage(source) } }
        let directory = TemporaryDirectory(prefix: "ecrnames")
        let held = try AnswerHoldingSocket(path: directory.path + "/held.sock", upstream: engine)
        defer { held.stop() }
        let port = Int.random(in: 40_000...49_999)
        let names = RelayNames()
        let tagging = Task {
            try await names.tag(source: source, repository: "127.0.0.1:\(port)/team/app", tag: "v1", in: DockerClient(socketPath: held.path))
        }
        var written = false
        for _ in 0..<600 where !written {
            written = (try? await RelayNameAheadTests.relayNames(docker, source, port: port))?.isEmpty == false
            if !written { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(written, "the Engine wrote the name")

        async let left = Self.removeLeft(names, timeout: .seconds(30))
        try await Task.sleep(for: .milliseconds(300))
        held.release()
        #expect(await left.isEmpty)
        try await tagging.value
        #expect(try await RelayNameAheadTests.relayNames(docker, source, port: port).isEmpty, "the name is gone")
        await #expect(throws: CancellationError.self, "nothing is tagged after the exit took the names") {
            try await names.tag(source: source, repository: "127.0.0.1:\(port)/team/app", tag: "v2", in: docker)
        }
    }

    /// An Engine that takes the request and never answers: the exit waits `timeout`, not for ever, and names what
    /// may be left.
    @Test func anEngineThatDoesNotAnswerLeavesTheNamesSaid() async throws {
        let directory = TemporaryDirectory(prefix: "ecrnames")
        let path = directory.path + "/silent.sock"
        let listener = try Self.listenWithoutAnswering(path)
        defer { close(listener) }
        let names = RelayNames()
        let docker = DockerClient(socketPath: path)
        names.made("127.0.0.1:40999/team/app:v1", in: docker) { ["127.0.0.1:40999/team/app@sha256:" + String(repeating: "a", count: 64)] }
        let start = ContinuousClock.now
        let left = await Self.removeLeft(names, timeout: .milliseconds(500))
        #expect(left == ["127.0.0.1:40999/team/app:v1", "127.0.0.1:40999/team/app@sha256:" + String(repeating: "a", count: 64)])
        // The removal would wait for ever (an image's removal has no timeout of its own).
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    /// A unix socket whose connections wait in the listen queue: connect(2) succeeds, nothing is ever read or answered.
    static func listenWithoutAnswering(_ path: String) throws -> Int32 { try listening(at: path) }

    static func unixSocket() -> Int32 {
        #if canImport(Glibc)
        socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
    }

    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.prefix(buffer.count - 1).enumerated() { buffer[index] = byte }
        }
        return address
    }

    /// A listening unix socket at `path`.
    static func listening(at path: String) throws -> Int32 {
        let listener = unixSocket()
        var address = address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return listener
    }
}

/// A unix socket in front of the Engine's that passes requests on at once and holds the Engine's answers until
/// `release()`: the Engine has done the work, the client has not heard so yet.
final class AnswerHoldingSocket: Sendable {
    let path: String
    private let listener: Int32
    private let gate = DispatchSemaphore(value: 0)

    init(path: String, upstream: String) throws {
        self.path = path
        listener = try RelayNamesTests.listening(at: path)
        let (listener, gate) = (listener, gate)
        Thread {
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                guard let engine = try? Self.connected(to: upstream) else {
                    close(client)
                    continue
                }
                // Only the tag's answer: the client's version check before it goes through.
                let tagAsked = Mutex(false)
                Thread {
                    Self.pump(from: client, to: engine) { chunk in
                        if String(decoding: chunk, as: UTF8.self).contains("/tag?") { tagAsked.withLock { $0 = true } }
                    }
                }.start()
                Thread {
                    Self.pump(from: engine, to: client) { _ in
                        guard tagAsked.withLock({ $0 }) else { return }
                        gate.wait()
                        gate.signal()
                    }
                }.start()
            }
        }.start()
    }

    func release() { gate.signal() }

    func stop() {
        release()
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Copies until either side closes; `before` sees each chunk before it is passed on.
    private static func pump(from source: Int32, to destination: Int32, before: ([UInt8]) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = read(source, &buffer, buffer.count)
            guard count > 0 else { break }
            before(Array(buffer[..<count]))
            guard buffer.withUnsafeBytes({ write(destination, $0.baseAddress, count) }) == count else { break }
        }
        shutdown(destination, Int32(SHUT_WR))
    }

    private static func connected(to path: String) throws -> Int32 {
        let socket = RelayNamesTests.unixSocket()
        var address = RelayNamesTests.address(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        return socket
    }
}
