import Testing

@testable import DockerEngine

/// `.dockerignore` matching, as a table against Docker's documented behaviour (docs.docker.com, "dockerignore")
/// and moby/patternmatcher's own cases.
@Suite struct DockerIgnoreTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let file: String
        let paths: [String: Bool]  // path → excluded?
        var testDescription: String { file.replacingOccurrences(of: "\n", with: " | ") }
    }

    static let cases: [Case] = [
        // The docs' first example: comments, */temp*, */*/temp*, temp?
        Case(
            file: "# comment\n*/temp*\n*/*/temp*\ntemp?\n",
            paths: [
                "somedir/temporary.txt": true,
                "somedir/temp": true,
                "somedir/temp/inner.txt": true,  // a matched directory takes its subtree
                "somedir/subdir/temporary.txt": true,
                "tempa": true,
                "tempb": true,
                "temp": false,  // ? needs exactly one character
                "tempab": false,
                "temporary.txt": false,  // */temp* needs one directory level
                "a/b/c/temporary.txt": false,  // neither one nor two levels deep
                "# comment": false,  // a comment is no pattern
                "somedir/other.txt": false
            ]),
        // ** matches any number of directories, including none.
        Case(
            file: "**/*.go",
            paths: [
                "main.go": true,
                "cmd/tool/main.go": true,
                "vendor/x/y/z.go": true,
                "main.go.txt": false,
                "README.md": false
            ]),
        // Exceptions: all markdown but README.md.
        Case(
            file: "*.md\n!README.md",
            paths: [
                "CHANGES.md": true,
                "README.md": false,
                "docs/guide.md": false  // *.md is root-level only
            ]),
        // Order matters: the last matching line wins.
        Case(
            file: "*.md\n!README*.md\nREADME-secret.md",
            paths: [
                "CHANGES.md": true,
                "README.md": false,
                "README-public.md": false,
                "README-secret.md": true
            ]),
        Case(
            file: "*.md\nREADME-secret.md\n!README*.md",
            paths: [
                "CHANGES.md": true,
                "README.md": false,
                "README-secret.md": false
            ]),
        // A directory pattern excludes its whole subtree; a trailing slash is cleaned away.
        Case(
            file: "node_modules\nbuild/\n",
            paths: [
                "node_modules": true,
                "node_modules/left-pad/index.js": true,
                "build": true,
                "build/out/app.o": true,
                "src/node_modules/x.js": false,  // unanchored names are still relative to the root
                "buildfile": false
            ]),
        // Re-including a file under an excluded directory.
        Case(
            file: "docs\n!docs/keep.md",
            paths: [
                "docs": true,
                "docs/other.md": true,
                "docs/keep.md": false
            ]),
        Case(
            file: "logs/*\n!logs/important/*.log",
            paths: [
                "logs/a.log": true,
                "logs/important/b.log": false,
                "logs/important/b.txt": true
            ]),
        // Leading "/" and "./" are cleaned; blank and whitespace lines skipped; surrounding spaces trimmed.
        Case(
            file: "/secret.txt\n./private\n\n   \n  spaced.txt  \n",
            paths: [
                "secret.txt": true,
                "private/key.pem": true,
                "spaced.txt": true,
                "public.txt": false
            ]),
        // Only a "#" at the very start makes a comment; CRLF line ends work.
        Case(
            file: "#a.txt\r\nb.txt\r\n",
            paths: [
                "a.txt": false,
                "#a.txt": false,
                "b.txt": true
            ]),
        // Character classes and escapes (Go filepath.Match).
        Case(
            file: "file[0-9].txt\n[!a]x\nesc\\*[0-9]\nlit\\*",
            paths: [
                "file1.txt": true,
                "filea.txt": false,
                "!x": true,  // Go classes negate with ^, so [!a] is '!' or 'a'
                "ax": true,
                "bx": false,
                "esc*1": true,  // an escaped * is a literal star
                "escx1": false,
                // Docker compares a pattern without wildcards verbatim, escapes included (patternmatcher's exactMatch).
                "lit\\*": true,
                "lit*": false
            ]),
        Case(
            file: "data[^0-9]",
            paths: [
                "datax": true,
                "data1": false
            ]),
        // "**" forms: dir/** (prefix), **/name (suffix), a/**/b.
        Case(
            file: "tmp/**\n**/cache\na/**/z.txt",
            paths: [
                "tmp/x": true,
                "tmp/x/y": true,
                "cache": true,
                "deep/down/cache": true,
                "deep/down/cache/entry": true,
                "notcache": false,
                "a/z.txt": true,
                "a/b/c/z.txt": true,
                "b/z.txt": false
            ]),
        // "*" alone excludes everything; an exception brings one file back.
        Case(
            file: "*\n!Dockerfile\n!src",
            paths: [
                "anything": true,
                "deep/file": true,
                "Dockerfile": false,
                "src": false,
                "src/main.swift": false
            ]),
        // "?" and "*" never cross a slash.
        Case(
            file: "a?b\nc*d",
            paths: [
                "axb": true,
                "a/b": false,
                "cd": true,
                "cxyzd": true,
                "c/d": false
            ])
    ]

    @Test(arguments: cases)
    func matchesLikeDocker(_ testCase: Case) throws {
        let ignore = try DockerIgnore(fileContents: testCase.file)
        for (path, expected) in testCase.paths.sorted(by: { $0.key < $1.key }) {
            #expect(ignore.excludes(path) == expected, "\(path) with \(testCase.testDescription)")
        }
    }

    @Test func readingCleansPatternsLikeDocker() {
        let lines = DockerIgnore.readLines("\u{FEFF}# c\n/a/b/\n./c\n! d \n!/e\nf/../g\n\n\t\n")
        #expect(lines == ["a/b", "c", "!d", "!e", "g"])
    }

    @Test func malformedPatternsAreRejectedWithTheLine() {
        for bad in ["[", "a[", "x[]y", "[a-]", "trailing\\", "!"] {
            #expect(throws: DockerError.self, "\(bad)") { try DockerIgnore(fileContents: bad) }
        }
        do {
            _ = try DockerIgnore(fileContents: "ok\nfile[.txt\n")
            Issue.record("expected an error")
        } catch let error as DockerError {
            guard case .invalidIgnorePattern(let pattern, _) = error else { Issue.record("\(error)"); return }
            #expect(pattern == "file[.txt")
            #expect(error.description.contains("file[.txt"))
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func buildFilesAreKeptEvenWhenIgnored() throws {
        let ignore = try DockerIgnore(fileContents: "Dockerfile\n.dockerignore\nbuild\n")
        let kept = ignore.keepingBuildFiles(dockerfile: "build/Dockerfile.prod")
        #expect(kept.excludes("Dockerfile"))  // not the Dockerfile in use: stays excluded
        #expect(!kept.excludes(".dockerignore"))
        #expect(!kept.excludes("build/Dockerfile.prod"))
        #expect(kept.excludes("build/other"))
        // The walker must still enter build/ to find it.
        #expect(!kept.canSkipExcludedDirectory("build"))
        #expect(kept.canSkipExcludedDirectory("other"))
    }

    @Test func excludedDirectoriesAreSkippedUnlessAnExceptionLiesBelow() throws {
        let ignore = try DockerIgnore(fileContents: "vendor\nlogs\n!logs/keep.log\n")
        #expect(ignore.canSkipExcludedDirectory("vendor"))
        #expect(!ignore.canSkipExcludedDirectory("logs"))
        #expect(ignore.canSkipExcludedDirectory("log"))  // "logs/" does not start with "log/"
    }
}
