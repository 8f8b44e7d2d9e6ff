// keel new: scaffold an application that builds, checks and runs as it is.

import ArgumentParser
import Foundation
import KeelKit

struct New: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a new application folder: a manifest with one task and a Swift file that logs and ends.")

    @Argument(help: "The application's name (its folder is created with it).")
    var name: String

    @Option(help: "The board the next commands it prints use (see `keel boards`).")
    var board: String = "mps2-an385"

    @Option(help: "The folder to create it in.")
    var directory: String = "."

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            let board = try BoardCatalog.board(named: board)
            let folder = try Scaffold.create(name: name, in: URL(fileURLWithPath: directory).standardizedFileURL)
            printLine("created \(folder.path): keel.json and one task (mainTask) that logs three lines")
            printLine("next:")
            for command in ["build", "check", "run"] {
                printLine("  keel \(command) --board \(board.name) --app \(folder.path)")
            }
        }
    }
}
