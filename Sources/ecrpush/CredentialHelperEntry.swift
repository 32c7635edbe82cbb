import Foundation

/// The docker-credential-helpers protocol entry point (`docker-credential-ecrpush get|list|store|erase|version`).
enum CredentialHelperEntry {
    static func run(arguments: [String]) async -> Int32 {
        Console.err("docker-credential-ecrpush: not implemented yet")
        return 1
    }
}
