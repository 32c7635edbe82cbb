import Foundation
import TestWorld
import Testing

/// Every command's `--help` as a terminal of 80 columns shows it.
@Suite struct HelpTextTests {
    static let commands = ["login", "whoami", "build", "push", "build-and-push", "tag", "copy", "scan", "cache", "doctor"]

    /// The paragraphs under OVERVIEW, as printed.
    static func discussion(_ help: String) -> [Substring] {
        let lines = help.split(separator: "\n", omittingEmptySubsequences: false)
        guard let usage = lines.firstIndex(where: { $0.hasPrefix("USAGE:") }), let blank = lines.firstIndex(of: "") else { return [] }
        return blank < usage ? Array(lines[(blank + 1)..<usage]) : []
    }

    /// A command's discussion is wrapped by the argument parser alone: a line break in the source inside a sentence
    /// would print as a short line followed by the sentence's rest ("…as docker login does (through a" / "symbolic
    /// link, …").
    @Test(arguments: commands)
    func theDiscussionHasNoLineBrokenInTheMiddleOfASentence(command: String) async throws {
        let result = try await ECRPushCLI.run([command, "--help"], environment: ["COLUMNS": "80"])
        #expect(result.status == 0, "\(result.combinedText)")
        let lines = Self.discussion(result.stdoutText)
        // A wrapped line fills most of the 80 columns; a short one ends its sentence or clause, or comes before an
        // option's or an example's line.
        for (line, next) in zip(lines, lines.dropFirst()) where line.count < 60 && !line.hasPrefix(" ") && !next.isEmpty {
            let ends = [".", ":", ";"].contains { line.hasSuffix($0) }
            #expect(ends || next.hasPrefix("-") || next.hasPrefix(" "), "a sentence broken after \"\(line)\": \"\(next)\"")
        }
    }
}
