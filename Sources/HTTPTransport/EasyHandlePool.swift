internal import CCurl
import Foundation

/// Idle curl easy handles, grouped by where they last connected. An easy handle keeps its live connections and
/// DNS cache across `curl_easy_reset`, so handing a request the handle that last talked to the same origin reuses
/// the kept-alive connection without sharing anything between threads: a handle is only ever used by one transfer.
final class EasyHandlePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [String: [UnsafeMutableRawPointer]] = [:]
    private var idleCount = 0
    private let maxIdlePerKey: Int
    private let maxIdleTotal: Int

    init(maxIdlePerKey: Int = 8, maxIdleTotal: Int = 64) {
        self.maxIdlePerKey = maxIdlePerKey
        self.maxIdleTotal = maxIdleTotal
    }

    deinit {
        for handles in idle.values {
            for handle in handles { ecr_curl_easy_cleanup(handle) }
        }
    }

    /// A clean handle (all options at their defaults), preferably one with a live connection to `key`.
    func checkOut(key: String) -> UnsafeMutableRawPointer? {
        lock.lock()
        if let handle = idle[key]?.popLast() {
            idleCount -= 1
            lock.unlock()
            return handle
        }
        lock.unlock()
        return ecr_curl_easy_init()
    }

    /// Takes the handle back. Options (and with them every pointer into the finished transfer) are reset now, so
    /// an idle handle never holds a dangling callback or buffer pointer.
    func checkIn(_ handle: UnsafeMutableRawPointer, key: String) {
        ecr_curl_easy_reset(handle)
        lock.lock()
        if idleCount < maxIdleTotal, idle[key, default: []].count < maxIdlePerKey {
            idle[key, default: []].append(handle)
            idleCount += 1
            lock.unlock()
            return
        }
        lock.unlock()
        ecr_curl_easy_cleanup(handle)
    }

    /// Which connection a request needs: the socket path for unix sockets, else scheme, host and port.
    static func key(for request: HTTPRequest) -> String {
        let origin = URLOrigin(request.url)?.description ?? "other"
        if let socket = request.unixSocketPath { return "unix:\(socket) \(origin)" }
        return origin
    }
}
