import Foundation

/// Paths inside this repository, found from this file's location (Tests/TestWorld/Repo.swift).
public enum Repo {
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // TestWorld
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root

    public static var tools: URL { root.appendingPathComponent("tools") }
    public static var worldScript: String { tools.appendingPathComponent("world.sh").path }
    public static var motoWorldScript: String { tools.appendingPathComponent("motoworld.py").path }
}
