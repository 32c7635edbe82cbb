#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process that made something a later run may have to clean up, written into the thing's name
/// ("<pid>-<start time>-<pid namespace>"): an export's scratch directory (`ScratchDirectory`), the name a push gives
/// an image for its relay. A later run can then tell what an ecrpush left when it was killed (SIGKILL, a crash, a
/// power cut) from what belongs to a push still running. A pid alone is not enough: pids are reused, so the process's
/// start time (clock ticks since boot, `/proc/<pid>/stat` field 22) must match too; and a thing made in another pid
/// namespace (a container sharing `$TMPDIR`, or the Engine's socket) names a pid this process cannot see, so it is
/// never judged at all.
package struct ProcessOwner: Equatable, Sendable {
    package let pid: Int32
    package let startTime: UInt64
    package let pidNamespace: UInt64

    /// This process, or nil where `/proc` cannot say (then names carry no owner and nothing is ever removed).
    package static let current: ProcessOwner? = {
        let pid = getpid()
        guard let stat = ProcessStat.of(pid: pid), let namespace = pidNamespace(of: "self") else { return nil }
        return ProcessOwner(pid: pid, startTime: stat.startTime, pidNamespace: namespace)
    }()

    /// "<pid>-<start time>-<pid namespace>", the part of a name that says who made it.
    package var nameComponent: String { "\(pid)-\(startTime)-\(pidNamespace)" }

    /// The owner a `nameComponent` names; nil for anything else.
    package init?(nameComponent: some StringProtocol) {
        let parts = nameComponent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let pid = Int32(parts[0]), pid > 0, let start = UInt64(parts[1]), let namespace = UInt64(parts[2]) else {
            return nil
        }
        self.init(pid: pid, startTime: start, pidNamespace: namespace)
    }

    package init(pid: Int32, startTime: UInt64, pidNamespace: UInt64) {
        self.pid = pid
        self.startTime = startTime
        self.pidNamespace = pidNamespace
    }

    /// Whether what this owner made may be removed by this process: made in this pid namespace, by another process
    /// that is certainly gone (`isAlive`).
    package var isAbandoned: Bool {
        guard let current = Self.current, pidNamespace == current.pidNamespace, self != current else { return false }
        return !isAlive
    }

    /// False only when the owner is certainly gone: no such process, a zombie, or another process that got its pid.
    /// Anything `/proc` does not answer clearly counts as alive (a thing kept too long costs disk; one removed too
    /// early breaks a push).
    var isAlive: Bool {
        switch ProcessStat.lookUp(pid: pid) {
        case .gone: return false
        case .unknown: return true
        case .running(let stat): return stat.startTime == startTime && stat.state != "Z" && stat.state != "X"
        }
    }

    /// The inode of `/proc/<process>/ns/pid` ("pid:[4026531836]").
    static func pidNamespace(of process: String) -> UInt64? {
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/\(process)/ns/pid", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard text.hasPrefix("pid:["), text.hasSuffix("]") else { return nil }
        return UInt64(text.dropFirst(5).dropLast())
    }
}

/// The two fields of `/proc/<pid>/stat` an owner check needs.
struct ProcessStat: Equatable {
    /// R, S, D, Z (zombie), X (dead), …
    let state: Character
    /// Clock ticks after boot when the process started (field 22).
    let startTime: UInt64

    enum LookUp {
        case running(ProcessStat)
        case gone
        case unknown
    }

    static func of(pid: Int32) -> ProcessStat? {
        if case .running(let stat) = lookUp(pid: pid) { return stat }
        return nil
    }

    static func lookUp(pid: Int32) -> LookUp {
        let descriptor = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return errno == ENOENT || errno == ESRCH ? .gone : .unknown }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        // A process that exits between open and read gives ESRCH.
        guard count > 0 else { return count < 0 && errno == ESRCH ? .gone : .unknown }
        return parse(Array(buffer[0..<count])).map { .running($0) } ?? .unknown
    }

    /// Field 2 is the command name in parentheses and may itself hold spaces and ')': the fields are counted
    /// from the last ')'.
    static func parse(_ bytes: [UInt8]) -> ProcessStat? {
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state), so field 22 is fields[19].
        guard fields.count > 19, let state = fields[0].first,
            let start = UInt64(String(decoding: fields[19], as: UTF8.self))
        else { return nil }
        return ProcessStat(state: Character(UnicodeScalar(state)), startTime: start)
    }
}
