import Foundation

/// Produces the bytes of a build context tar on demand, reading each file only when its turn comes: the request
/// body's producer pulls from it on the transfer thread, so neither a temporary copy nor the whole tar exists.
/// Used by one thread at a time (the transfer's); the lock only guards against misuse.
final class TarStream: @unchecked Sendable {
    private let entries: [BuildContextArchive.Entry]
    private let lock = NSLock()
    private var nextEntry = 0
    /// Bytes ready to copy out: a header, or a header plus inline contents and padding.
    private var pending: [UInt8] = []
    private var pendingOffset = 0
    private var openFile: (descriptor: Int32, name: String)?
    private var fileRemaining: Int64 = 0
    private var paddingRemaining = 0
    private var wroteTrailer = false

    init(entries: [BuildContextArchive.Entry]) {
        self.entries = entries
    }

    deinit {
        if let openFile { FileSystem.close(openFile.descriptor) }
    }

    /// Fills `buffer` as far as possible; returns 0 only once the whole archive has been produced.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        var written = 0
        while written < buffer.count {
            let space = buffer.count - written
            if pendingOffset < pending.count {
                let count = min(space, pending.count - pendingOffset)
                pending.withUnsafeBytes { source in
                    (buffer.baseAddress! + written).copyMemory(from: source.baseAddress! + pendingOffset, byteCount: count)
                }
                pendingOffset += count
                written += count
            } else if let file = openFile {
                if fileRemaining > 0 {
                    let want = Int(min(Int64(space), fileRemaining))
                    let target = UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + want)])
                    let count: Int
                    do {
                        count = try FileSystem.read(file.descriptor, into: target)
                    } catch {
                        throw DockerError.contextUnreadable(path: file.name, detail: "\(error)")
                    }
                    if count == 0 {
                        throw DockerError.contextUnreadable(path: file.name, detail: "the file shrank while it was being sent")
                    }
                    fileRemaining -= Int64(count)
                    written += count
                } else {
                    FileSystem.close(file.descriptor)
                    openFile = nil
                }
            } else if paddingRemaining > 0 {
                let count = min(space, paddingRemaining)
                (buffer.baseAddress! + written).initializeMemory(as: UInt8.self, repeating: 0, count: count)
                paddingRemaining -= count
                written += count
            } else if nextEntry < entries.count {
                try startEntry(entries[nextEntry])
                nextEntry += 1
            } else if !wroteTrailer {
                // Two zero blocks end the archive.
                pending = [UInt8](repeating: 0, count: 2 * TarHeader.blockSize)
                pendingOffset = 0
                wroteTrailer = true
            } else {
                break
            }
        }
        return written
    }

    private func startEntry(_ entry: BuildContextArchive.Entry) throws {
        pending = entry.header.encode()
        pendingOffset = 0
        switch entry.content {
        case .none:
            break
        case .inline(let bytes):
            pending += bytes
            pending += TarHeader.padding(for: Int64(bytes.count))
        case .file(let path):
            do {
                openFile = (try FileSystem.openForReading(path), entry.header.name)
            } catch {
                throw DockerError.contextUnreadable(path: entry.header.name, detail: "\(error)")
            }
            fileRemaining = entry.header.size
            paddingRemaining = TarHeader.padding(for: entry.header.size).count
        }
    }
}
