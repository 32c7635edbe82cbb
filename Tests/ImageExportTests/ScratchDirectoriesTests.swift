import Foundation
import TestWorld
import Testing

@testable import ImageExport

#if canImport(Glibc)
import Glibc
#endif

/// Export directories are named after the process that made them (pid, start time, pid namespace), so that a later
/// run removes those whose maker is gone and no other: real processes, dead, zombie and alive, decide.
@Suite struct ScratchDirectoriesTests {
    static func directoryName(_ owner: ProcessOwner, suffix: String = "AbC123") -> String {
        "\(ScratchDirectory.namePrefix)\(owner.nameComponent).\(suffix)"
    }

    /// A process that has exited and been reaped: its pid names nobody (or, reused, someone started later).
    static func deadPid() async throws -> Int32 {
        let pid = try BackgroundProcess.spawn(["/bin/true"])
        try #require(await BackgroundProcess.ending(of: pid, timeout: .seconds(30)) == .exited(0))
        return pid
    }

    @Test func anExportDirectoryIsNamedAfterThisProcess() throws {
        let parent = TemporaryDirectory(prefix: "iesd")
        let reader = try ImageExportReader(options: .init(temporaryDirectoryParent: parent.url))
        let current = try #require(ProcessOwner.current)
        #expect(current.pid == getpid())
        let name = (reader.temporaryDirectory as NSString).lastPathComponent
        #expect(name.hasPrefix("ecrpush-export.\(getpid())-\(current.startTime)-\(current.pidNamespace)."), "\(name)")
        #expect(ProcessOwner(directoryName: name) == current)
        #expect(current.isAlive)
        reader.cancel()
    }

    @Test func onlyDirectoriesWhoseMakerIsGoneAreRemoved() async throws {
        let parent = TemporaryDirectory(prefix: "iesd")
        let current = try #require(ProcessOwner.current)
        func make(_ name: String, file bytes: Int = 0) throws -> String {
            let path = "\(parent.path)/\(name)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            if bytes > 0 { try writeFile(path + "/layer", [UInt8](repeating: 7, count: bytes)) }
            return path
        }
        let deadPid = try await Self.deadPid()
        let dead = try make(
            Self.directoryName(ProcessOwner(pid: deadPid, startTime: current.startTime, pidNamespace: current.pidNamespace)), file: 3000)
        // This very pid, but started at another time: the process that made the directory is gone.
        let reused = try make(
            Self.directoryName(ProcessOwner(pid: current.pid, startTime: current.startTime + 1, pidNamespace: current.pidNamespace)))

        // A child that has exited but is not reaped yet: a zombie is no owner either.
        let zombiePid = try BackgroundProcess.spawn(["/bin/true"])
        let zombieStat = try #require(
            await eventually { ProcessStat.of(pid: zombiePid).flatMap { $0.state == "Z" ? $0 : nil } }, "the child never became a zombie")
        let zombie = try make(
            Self.directoryName(ProcessOwner(pid: zombiePid, startTime: zombieStat.startTime, pidNamespace: current.pidNamespace)))

        let live = try make(Self.directoryName(current, suffix: "live01"), file: 10)
        let parentProcess = try #require(ProcessStat.of(pid: getppid()))
        let liveOther = try make(
            Self.directoryName(ProcessOwner(pid: getppid(), startTime: parentProcess.startTime, pidNamespace: current.pidNamespace)))
        // Made in another pid namespace: its pid means nothing here.
        let otherNamespace = try make(
            Self.directoryName(ProcessOwner(pid: deadPid, startTime: current.startTime, pidNamespace: current.pidNamespace + 1)))
        // An older ecrpush's name says nothing of its maker.
        let unnamed = try make("ecrpush-export.Xy12Ab")
        let unrelated = try make("something-else")
        // Named like a dead owner's, but a link or a plain file: never followed, never removed.
        let target = try make("target")
        let link = "\(parent.path)/\(Self.directoryName(ProcessOwner(pid: deadPid, startTime: 1, pidNamespace: current.pidNamespace)))"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let file = "\(parent.path)/\(Self.directoryName(ProcessOwner(pid: deadPid, startTime: 2, pidNamespace: current.pidNamespace)))"
        try writeFile(file, "not a directory")

        let removed = ScratchDirectories.removeAbandoned(in: parent.url)
        #expect(BackgroundProcess.reapIfEnded(zombiePid) == .exited(0))
        #expect(Set(removed.map(\.path)) == [dead, reused, zombie])
        #expect(removed.first { $0.path == dead } == .init(path: dead, pid: deadPid, bytes: 3000))
        for path in [dead, reused, zombie] { #expect(!exists(path), "\(path)") }
        for path in [live, liveOther, otherNamespace, unnamed, unrelated, target, link, file] { #expect(exists(path), "\(path)") }
        #expect(exists(target + "/"), "the link's target is untouched")

        #expect(ScratchDirectories.removeOwn(in: parent.url).isEmpty)
        #expect(!exists(live), "this process's own directory goes with removeOwn")
        #expect(exists(liveOther))
    }

    /// The command name in field 2 may hold spaces and parentheses; fields are counted from the last ')'.
    @Test func statFieldsAreCountedFromTheLastParenthesis() throws {
        // Fields 4 to 30 after the state (field 3); field 22 is the start time.
        let fields = (4...30).map { $0 == 22 ? "987654" : String($0) }.joined(separator: " ")
        let stat = try #require(ProcessStat.parse(Array("1234 (a) b (c) d) S \(fields)\n".utf8)))
        #expect(stat == ProcessStat(state: "S", startTime: 987_654))
        #expect(ProcessStat.parse(Array("1234 (short) S 1 2".utf8)) == nil)
        #expect(ProcessOwner(directoryName: "ecrpush-export.12-34-56.AbC123") == ProcessOwner(pid: 12, startTime: 34, pidNamespace: 56))
        for name in ["ecrpush-export.AbC123", "ecrpush-export.12-34.AbC123", "ecrpush-export.x-34-56.AbC123", "ecrpush-export.0-1-2.Ab"] {
            #expect(ProcessOwner(directoryName: name) == nil, "\(name)")
        }
    }
}

/// Polls `condition` for up to 10 seconds.
private func eventually<Value>(_ condition: () -> Value?) async -> Value? {
    for _ in 0..<500 {
        if let value = condition() { return value }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return nil
}
