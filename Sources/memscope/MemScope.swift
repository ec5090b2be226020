// The `memscope` executable: subcommands only; the work lives in the library targets.
import ArgumentParser
import Foundation

@main
struct MemScope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memscope",
        abstract: "Explore how much memory each layer of a Transformer-XL needs (Rae & Razavi, 2020).",
        version: "0.1.0",
        subcommands: [
            ExploreCommand.self, EvalCommand.self, AttentionCommand.self, InfoCommand.self, VerifyCommand.self,
            BenchCommand.self,
            SweepCommand.self,
            TrainCommand.self, DataCommand.self,
        ],
        defaultSubcommand: ExploreCommand.self
    )

    /// ArgumentParser's own main, plus one check that every result written to stdout arrived (StandardOutput.swift).
    static func main() {
        do {
            var command = try parseAsRoot(NegativeValues.join(Array(CommandLine.arguments.dropFirst())))
            try command.run()
            try StandardOutput.check()
        } catch {
            exit(withError: error)
        }
    }
}

/// A one-line user-facing failure: ArgumentParser prints it as `Error: <message>` and exits with status 1.
struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
