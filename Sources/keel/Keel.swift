// keel: build, run, demonstrate and measure Keel firmware. Each subcommand is one small struct.

import ArgumentParser
import Foundation
import KeelKit

@main
struct Keel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keel",
        abstract: "Task stacks on Cortex-M, safe and small: build, run and measure Keel firmware under QEMU.",
        version: "keel \(KeelVersion.string)",
        subcommands: [New.self, Boards.self, Build.self, Run.self, Decode.self, Top.self, Flash.self, Debug.self, Demo.self, Bench.self, Layout.self, Stack.self, Check.self, Faults.self]
    )

    /// Exit code of every usage mistake (unknown option or command, missing or invalid
    /// argument): bad input, like a broken manifest. ArgumentParser's own would be 64.
    static let usageExitCode: Int32 = 2

    /// ArgumentParser's `main`, except that a usage mistake is one line on standard error and
    /// exit code 2 (`--help` and `help X` still print help and exit 0), and `help X` for an
    /// unknown X is such a mistake instead of the top-level help.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command = parsed(arguments)
        do {
            try command.run()
        } catch {
            // KeelErrors already printed their line and became an ExitCode (reportingErrors).
            exit(withError: error)
        }
    }

    /// The command `arguments` select; a usage mistake ends the program here.
    static func parsed(_ arguments: [String]) -> any ParsableCommand {
        if arguments.first == "help" {
            let (commands, unknown) = commandPath(Array(arguments.dropFirst()))
            if let unknown, unknown != "help" {
                let known = subcommands(below: commands).map { $0._commandName }
                usageMistake(known.isEmpty ? "'\(KeelError.excerpt(unknown))' is not a command"
                                           : "unknown command '\(KeelError.excerpt(unknown))'; commands: \(known.joined(separator: ", "))",
                             arguments: arguments)
            }
        }
        do {
            return try parseAsRoot(arguments)
        } catch {
            // Help (and any other clean exit) prints as ArgumentParser prints it.
            if exitCode(for: error) == .success { exit(withError: error) }
            let text = message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            usageMistake(text, arguments: arguments)
        }
    }

    /// The subcommands the leading `names` select, and the first name that is none of them.
    static func commandPath(_ names: [String]) -> (commands: [any ParsableCommand.Type], unknown: String?) {
        var commands: [any ParsableCommand.Type] = []
        for name in names where !name.hasPrefix("-") {
            let children = subcommands(below: commands)
            guard let next = children.first(where: { $0._commandName == name }) else { return (commands, name) }
            commands.append(next)
        }
        return (commands, nil)
    }

    /// The subcommands of the last command in `path` (of `keel` itself for an empty path).
    static func subcommands(below path: [any ParsableCommand.Type]) -> [any ParsableCommand.Type] {
        guard let last = path.last else { return configuration.subcommands }
        return last.configuration.subcommands
    }

    /// Prints `keel: error: <message> (see 'keel <command> --help')` and exits with the usage code.
    static func usageMistake(_ message: String, arguments: [String]) -> Never {
        let names = commandPath(arguments.filter { $0 != "help" }).commands.map { $0._commandName }
        let help = (["keel"] + names + ["--help"]).joined(separator: " ")
        FileHandle.standardError.write(Data("keel: error: \(KeelError.oneLine(message)) (see '\(help)')\n".utf8))
        Foundation.exit(usageExitCode)
    }
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
