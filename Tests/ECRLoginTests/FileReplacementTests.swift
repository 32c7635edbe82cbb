import Foundation
import TestWorld
import Testing

@testable import ECRLogin

/// Files ecrpush replaces are replaced atomically; a user's file keeps its mode, ecrpush's secrets stay 0600.
@Suite struct FileReplacementTests {
    static func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    @Test func keepExistingKeepsTheModeAndPrivateFileDoesNot() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/file"
        try PrivateFile.writeAtomically(Data("new".utf8), to: path, temporaryPrefix: ".tmp-", permissions: .keepExisting)
        #expect(try Self.mode(path) == 0o600, "a new file is private")

        for existing in [0o644, 0o640, 0o600, 0o444] {
            chmod(path, mode_t(existing))
            try PrivateFile.writeAtomically(Data("v\(existing)".utf8), to: path, temporaryPrefix: ".tmp-", permissions: .keepExisting)
            #expect(try Self.mode(path) == existing, "\(String(existing, radix: 8))")
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "v\(existing)")
        }

        chmod(path, 0o644)
        try PrivateFile.writeAtomically(Data("secret".utf8), to: path, temporaryPrefix: ".tmp-", permissions: .privateFile)
        #expect(try Self.mode(path) == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["file"], "no temporary file is left")
    }

    /// The login cache holds passwords: whatever happened to a file, a rewrite makes it 0600 again. (The blob
    /// cache holds nothing secret and keeps what it had: `BlobDigestCacheTests`.)
    @Test func loginCacheStaysPrivate() throws {
        let directory = TemporaryDirectory()
        let cache = TokenCache(directory: directory.path)
        try cache.store(TokenCacheTests.login(expiresIn: 3600), for: TokenCacheTests.key)
        let login = cache.path(for: TokenCacheTests.key)
        chmod(login, 0o644)
        try cache.store(TokenCacheTests.login(password: "again", expiresIn: 3600), for: TokenCacheTests.key)
        #expect(try Self.mode(login) == 0o600)
    }
}

/// `$GITHUB_OUTPUT` is appended to as a shell's `>>` would.
@Suite struct GitHubOutputTests {
    @Test func aMissingFileIsCreatedAndAnExistingOneAppendedTo() throws {
        let directory = TemporaryDirectory()
        let path = directory.path + "/output"
        // Read, not set: the umask is the whole test process's, and other tests create files meanwhile.
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let umaskLine = try #require(status.split(separator: "\n").first { $0.hasPrefix("Umask:") })
        let mask = try #require(Int(umaskLine.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8))
        try GitHubOutput.append("a=1\n", to: path)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o666 & ~mask, "0666 less the umask")
        try GitHubOutput.append("b=2\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "a=1\nb=2\n")
    }

    @Test func aFileInAMissingDirectorySaysWhy() {
        let directory = TemporaryDirectory()
        let path = directory.path + "/missing/output"
        do {
            try GitHubOutput.append("a=1\n", to: path)
            Issue.record("appending under a missing directory succeeded")
        } catch {
            #expect(error.description.contains("GITHUB_OUTPUT file \(path)") && error.description.contains("No such file or directory"), "\(error)")
        }
    }
}
