/// The plan of a build context tar: which entries go in, in which order, and where the Dockerfile is. Only
/// metadata is held; file contents are read while the tar streams (see `TarStream`).
struct BuildContextArchive: Sendable {
    struct Entry: Sendable, Equatable {
        enum Content: Sendable, Equatable {
            case none
            /// Read from disk while streaming; `header.size` bytes are expected.
            case file(path: String)
            /// Small generated files (the out-of-context Dockerfile, an extended `.dockerignore`).
            case inline([UInt8])
        }

        var header: TarHeader
        var content: Content
    }

    let entries: [Entry]
    /// The `dockerfile` query parameter: the Dockerfile's path inside the tar.
    let dockerfileName: String
    let contextDirectory: String

    /// Walks the context, applying `.dockerignore`, and checks every file that will be sent can be read.
    static func plan(
        for context: BuildContext, currentTime: Int64,
        randomName: () -> String = BuildContextArchive.randomDockerfileName
    ) throws -> BuildContextArchive {
        let contextPath = absolute(context.directory)
        guard let contextStatus = FileSystem.status(contextPath), contextStatus.type == .directory,
            let contextRoot = FileSystem.realPath(contextPath)
        else {
            throw DockerError.contextMissing(path: context.directory)
        }
        let dockerfilePath = try locateDockerfile(context, contextRoot: contextRoot)
        guard let realDockerfile = FileSystem.realPath(dockerfilePath) else { throw DockerError.dockerfileMissing(path: dockerfilePath) }
        let rootPrefix = contextRoot == "/" ? "/" : contextRoot + "/"
        let dockerfileInContext: String? = realDockerfile.hasPrefix(rootPrefix) ? String(realDockerfile.dropFirst(rootPrefix.count)) : nil

        let ignoreFilePath = rootPrefix + ".dockerignore"
        var ignore = DockerIgnore()
        var ignoreFileContents: [UInt8]?
        if FileSystem.status(ignoreFilePath)?.type == .regular {
            let bytes = try readSmallFile(ignoreFilePath, shownAs: ".dockerignore")
            ignoreFileContents = bytes
            ignore = try DockerIgnore(fileContents: String(decoding: bytes, as: UTF8.self))
        }
        ignore = ignore.keepingBuildFiles(dockerfile: dockerfileInContext)

        var entries: [Entry] = []
        try walk(directory: contextRoot, relative: "", ignore: ignore, into: &entries)

        if let dockerfileInContext {
            return BuildContextArchive(entries: entries, dockerfileName: dockerfileInContext, contextDirectory: contextRoot)
        }

        // A Dockerfile outside the context travels inside the tar under a random name, which is also added to
        // .dockerignore so the daemon drops it again and `COPY . .` never copies it (what the docker CLI does).
        let generatedName = randomName()
        let dockerfileBytes = try readSmallFile(dockerfilePath, shownAs: dockerfilePath)
        let listed = Array("\n\(generatedName)\n".utf8)
        if let index = entries.firstIndex(where: { $0.header.name == ".dockerignore" && $0.header.kind == .regular }),
            let ignoreFileContents
        {
            let extended = ignoreFileContents + listed
            entries[index].header.size = Int64(extended.count)
            entries[index].content = .inline(extended)
        } else if !entries.contains(where: { $0.header.name == ".dockerignore" }) {
            // Listing .dockerignore in itself makes the daemon drop this generated file too.
            let generated = listed + Array(".dockerignore\n".utf8)
            entries.append(
                Entry(
                    header: TarHeader(
                        name: ".dockerignore", kind: .regular, mode: 0o600,
                        size: Int64(generated.count), modificationTime: currentTime),
                    content: .inline(generated)))
        }
        entries.append(
            Entry(
                header: TarHeader(
                    name: generatedName, kind: .regular, mode: 0o600,
                    size: Int64(dockerfileBytes.count), modificationTime: currentTime),
                content: .inline(dockerfileBytes)))
        return BuildContextArchive(entries: entries, dockerfileName: generatedName, contextDirectory: contextRoot)
    }

    /// The exact number of bytes the tar stream will have (headers, contents, padding, end-of-archive blocks).
    var contentLength: Int64 {
        var total: Int64 = 2 * Int64(TarHeader.blockSize)
        for entry in entries {
            total += Int64(entry.header.encode().count) + TarHeader.paddedSize(entry.header.size)
        }
        return total
    }

    static func randomDockerfileName() -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<10).map { _ in UInt8.random(in: 0...255, using: &generator) }
            .map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return ".dockerfile." + hex
    }

    /// The Dockerfile's absolute path: as given (relative to the current directory, like `docker build -f`), or
    /// `Dockerfile` (falling back to `dockerfile`) in the context.
    private static func locateDockerfile(_ context: BuildContext, contextRoot: String) throws -> String {
        if let given = context.dockerfile {
            let path = absolute(given)
            guard FileSystem.status(path)?.type == .regular else { throw DockerError.dockerfileMissing(path: given) }
            return path
        }
        for name in ["Dockerfile", "dockerfile"] {
            let path = contextRoot + "/" + name
            if FileSystem.status(path)?.type == .regular { return path }
        }
        throw DockerError.dockerfileMissing(path: absolute(context.directory) + "/Dockerfile")
    }

    private static func walk(directory: String, relative: String, ignore: DockerIgnore, into entries: inout [Entry]) throws {
        let names: [String]
        do {
            names = try FileSystem.directoryEntries(directory)
        } catch {
            throw DockerError.contextUnreadable(path: relative.isEmpty ? directory : relative, detail: "\(error)")
        }
        for name in names {
            let relativePath = relative.isEmpty ? name : relative + "/" + name
            let fullPath = directory + "/" + name
            let status: FileSystem.Status
            do {
                status = try FileSystem.linkStatus(fullPath)
            } catch {
                throw DockerError.contextUnreadable(path: relativePath, detail: "\(error)")
            }
            if ignore.excludes(relativePath) {
                // An excluded directory is still entered when an exception may re-include something below it.
                if status.type == .directory, !ignore.canSkipExcludedDirectory(relativePath) {
                    try walk(directory: fullPath, relative: relativePath, ignore: ignore, into: &entries)
                }
                continue
            }
            switch status.type {
            case .directory:
                entries.append(
                    Entry(
                        header: TarHeader(
                            name: relativePath + "/", kind: .directory, mode: status.permissions,
                            modificationTime: status.modificationTime), content: .none))
                try walk(directory: fullPath, relative: relativePath, ignore: ignore, into: &entries)
            case .regular:
                do {
                    FileSystem.close(try FileSystem.openForReading(fullPath))
                } catch {
                    throw DockerError.contextUnreadable(path: relativePath, detail: "\(error)")
                }
                entries.append(
                    Entry(
                        header: TarHeader(
                            name: relativePath, kind: .regular, mode: status.permissions,
                            size: status.size, modificationTime: status.modificationTime),
                        content: .file(path: fullPath)))
            case .symlink:
                let target: String
                do {
                    target = try FileSystem.readLink(fullPath)
                } catch {
                    throw DockerError.contextUnreadable(path: relativePath, detail: "\(error)")
                }
                entries.append(
                    Entry(
                        header: TarHeader(
                            name: relativePath, kind: .symlink, mode: status.permissions,
                            modificationTime: status.modificationTime, linkName: target),
                        content: .none))
            case .other:
                // Sockets, FIFOs and devices have no place in an image build context.
                continue
            }
        }
    }

    private static func readSmallFile(_ path: String, shownAs name: String) throws -> [UInt8] {
        do {
            return try FileSystem.readWholeFile(path)
        } catch {
            throw DockerError.contextUnreadable(path: name, detail: "\(error)")
        }
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return PathClean.clean(path) }
        return PathClean.clean(FileSystem.currentDirectory() + "/" + path)
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
