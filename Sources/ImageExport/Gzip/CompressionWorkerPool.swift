import Foundation

/// Worker threads shared by all parallel compressors: one per core, started on first use, idle when
/// there is nothing to compress.
final class CompressionWorkerPool: @unchecked Sendable {
    static let shared = CompressionWorkerPool(threadCount: max(1, ProcessInfo.processInfo.activeProcessorCount))

    let threadCount: Int
    private let condition = NSCondition()
    private var queue: [DeflateBlock] = []
    private var started = false

    init(threadCount: Int) {
        self.threadCount = threadCount
    }

    func enqueue(_ block: DeflateBlock) {
        condition.lock()
        if !started {
            started = true
            for index in 0..<threadCount {
                let thread = Thread { [self] in work() }
                thread.name = "ecrpush-gzip-\(index)"
                thread.start()
            }
        }
        queue.append(block)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let block = queue.removeFirst()
            condition.unlock()
            block.run()
        }
    }
}
