// keel: build, run, demonstrate and measure Keel firmware. Each subcommand is one small struct.

import ArgumentParser
import Foundation
import KeelKit

@main
struct Keel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keel",
        abstract: "Task stacks on Cortex-M, safe and small: build, run and measure Keel firmware under QEMU.",
        subcommands: [Boards.self, Build.self, Run.self, Demo.self, Bench.self, Layout.self, Stack.self, Check.self, Faults.self]
    )
}

/// The options every firmware command shares.
struct TargetOptions: ParsableArguments {
    @Option(name: .long, help: "The board to build for (see `keel boards`).")
    var board: String = "mps2-an385"

    @Option(name: .long, help: "The application folder (with keel.json and its Swift sources).")
    var app: String

    func resolve() throws(KeelError) -> (Board, Application) {
        let board = try BoardCatalog.board(named: board)
        let application = try Manifest.load(directory: URL(fileURLWithPath: app).standardizedFileURL, board: board)
        return (board, application)
    }
}

/// Runs a command body; a KeelError becomes its one-line message and exit code, never a trace.
func reportingErrors(_ body: () throws(KeelError) -> Void) throws {
    do {
        try body()
    } catch {
        FileHandle.standardError.write(Data("keel: error: \(error.description)\n".utf8))
        throw ExitCode(error.exitCode)
    }
}

/// Prints a line and flushes it at once, so a long run streams its console as it happens.
func printLine(_ text: String = "") {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
