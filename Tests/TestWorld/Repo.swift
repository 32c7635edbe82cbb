import Foundation

/// Paths inside this repository, found from this file's location (Tests/TestWorld/Repo.swift).
package enum Repo {
    package static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestWorld
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root

    package static var tools: URL { root.appendingPathComponent("tools") }
    package static var worldScript: String { tools.appendingPathComponent("world.sh").path }
    package static var motoWorldScript: String { tools.appendingPathComponent("motoworld.py").path }
    package static var faultProxyScript: String { tools.appendingPathComponent("faultproxy.py").path }
    package static var tokenServerScript: String { tools.appendingPathComponent("tokenserver.py").path }
}
