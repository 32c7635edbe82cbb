import AWSCore
import Foundation
import Hashing

/// Who a registry login is for. Stable across runs: the partition, region and registry, the AWS endpoint, and
/// the principal (the profile and role the credentials come from, or the caller's ARN) — never an access key id,
/// which changes with every assumed-role session.
package struct TokenCacheKey: Sendable, Hashable, Codable {
    package var partition: String
    package var region: String
    package var registryId: String
    package var principal: String
    /// An explicit AWS endpoint (a VPC endpoint, a test world); nil for the partition's own.
    package var endpoint: String?

    package init(partition: String, region: String, registryId: String, principal: String, endpoint: String?) {
        self.partition = partition
        self.region = region
        self.registryId = registryId
        self.principal = principal
        self.endpoint = endpoint
    }

    /// The file name: a digest, so nothing about the principal shows in a directory listing.
    package var fileName: String {
        var hasher = SHA256()
        for part in [partition, region, registryId, principal, endpoint ?? ""] {
            hasher.update(part)
            hasher.update([0])
        }
        return hasher.finalize().hex + ".json"
    }
}

/// Registry logins kept on disk between runs, so that `docker pull` after `docker pull` does not ask ECR again.
///
/// `$XDG_CACHE_HOME/ecrpush` (default `~/.cache/ecrpush`), 0700; one 0600 file per key, replaced atomically
/// (temporary file + rename) so readers never see half a file. A refresh holds a per-key `flock`, so processes
/// started together make one GetAuthorizationToken call between them. A login is used only while more than
/// `margin` of it remains; a failed refresh is an error, never a stale login.
package struct TokenCache: Sendable {
    package let directory: String
    package var margin: TimeInterval

    /// 30 minutes: long enough for a push to finish with the login it started with.
    package static let defaultMargin: TimeInterval = 30 * 60

    package init(directory: String, margin: TimeInterval = TokenCache.defaultMargin) {
        self.directory = directory
        self.margin = margin
    }

    /// The cache of this environment, or nil when `ECRPUSH_NO_CACHE` turns it off. `ECRPUSH_CACHE_MARGIN`
    /// (seconds) changes the margin.
    package static func fromEnvironment(_ environment: [String: String], homeDirectory: String) -> TokenCache? {
        if let off = environment["ECRPUSH_NO_CACHE"], !off.isEmpty, off != "0", off.lowercased() != "false" { return nil }
        var cache = TokenCache(directory: defaultDirectory(environment: environment, homeDirectory: homeDirectory))
        if let text = environment["ECRPUSH_CACHE_MARGIN"], let seconds = TimeInterval(text), seconds >= 0 {
            cache.margin = seconds
        }
        return cache
    }

    package static func defaultDirectory(environment: [String: String], homeDirectory: String) -> String {
        if let base = environment["XDG_CACHE_HOME"], base.hasPrefix("/") { return base + "/ecrpush" }
        return homeDirectory + "/.cache/ecrpush"
    }

    struct Entry: Codable {
        var key: TokenCacheKey
        var login: RegistryLogin
    }

    /// The cached login for `key` when more than the margin of it remains at `now`.
    package func lookup(_ key: TokenCacheKey, now: Date = Date()) -> RegistryLogin? {
        guard let entry = read(path(for: key)), entry.key == key, isFresh(entry.login, now: now) else { return nil }
        return entry.login
    }

    func isFresh(_ login: RegistryLogin, now: Date) -> Bool {
        // A login without an expiry can't be judged: never cached as good.
        guard let expiresAt = login.expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) > margin
    }

    /// The cached login, or a fresh one from `fetch` (stored for next time). `fromCache` says which.
    /// Concurrent callers for the same key (threads or processes) wait for one refresh instead of each making one.
    package func login(
        for key: TokenCacheKey, now: @Sendable () -> Date = { Date() },
        fetch: () async throws -> RegistryLogin
    ) async throws -> (login: RegistryLogin, fromCache: Bool) {
        if let cached = lookup(key, now: now()) { return (cached, true) }
        let lock = try? lockFile(for: key)
        defer { if let lock { flock(lock, LOCK_UN); close(lock) } }
        // Another process may have refreshed while we waited for the lock.
        if let cached = lookup(key, now: now()) { return (cached, true) }
        let login = try await fetch()
        try? store(login, for: key)
        return (login, false)
    }

    /// Writes the login for `key` (0600, atomically).
    package func store(_ login: RegistryLogin, for key: TokenCacheKey) throws {
        try prepareDirectory()
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        let data = try encoder.encode(Entry(key: key, login: login))
        do {
            try PrivateFile.writeAtomically(data, to: path(for: key), temporaryPrefix: ".tmp-", permissions: .privateFile)
        } catch {
            throw cacheError(error.detail)
        }
    }

    /// Every cached login that is still fresh (for the credential helper's `list`).
    package func freshLogins(now: Date = Date()) -> [RegistryLogin] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
            .compactMap { read(directory + "/" + $0)?.login }
            .filter { isFresh($0, now: now) }
    }

    /// Removes every cached login (and lock file); returns how many logins there were.
    @discardableResult
    package func clear() throws -> Int {
        do {
            return try PrivateFile.clearCache(directory)
        } catch {
            throw cacheError(error.detail)
        }
    }

    func path(for key: TokenCacheKey) -> String { directory + "/" + key.fileName }

    func read(_ path: String) -> Entry? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try? decoder.decode(Entry.self, from: data)
    }

    /// Makes the directory 0700 (and tightens it when it exists with wider permissions).
    func prepareDirectory() throws {
        do {
            try PrivateFile.prepareDirectory(directory)
        } catch {
            throw cacheError(error.detail)
        }
    }

    func lockFile(for key: TokenCacheKey) throws -> Int32 {
        try prepareDirectory()
        let fd = open(path(for: key).replacingOccurrences(of: ".json", with: ".lock"), O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { throw cacheError("cannot open a lock file in \(directory): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX) == 0 else {
            let error = cacheError("cannot lock a file in \(directory): \(String(cString: strerror(errno)))")
            close(fd)
            throw error
        }
        return fd
    }

    func cacheError(_ what: String) -> ECRLoginError {
        .invalidArgument("token cache: \(what). Set ECRPUSH_NO_CACHE=1 to do without the cache, or fix the directory's permissions.")
    }
}
