// keel stack: the worst-case stack of every task and of the handler stack, from the image.

import ArgumentParser
import Foundation
import KeelKit

struct Stack: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each task's worst-case stack, its deepest path and every unbounded point, from the linked image.",
        discussion: "Give an ELF image built by `keel build`, or --app and --board to build the application first.")

    @Argument(help: "An ELF image built by `keel build` (instead of --app).")
    var image: String?

    @Option(name: .long, help: "The board (see `keel boards`).")
    var board: String = "mps2-an385"

    @Option(name: .long, help: "The application folder (with keel.json); it is built first.")
    var app: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    func validate() throws {
        if (image == nil) == (app == nil) { throw ValidationError("give either an ELF image or --app DIR (with --board)") }
    }

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            let report = try Self.analyze(image: image, app: app, board: board)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                let data: Data
                do { data = try encoder.encode(report) } catch { throw .runFailed("cannot encode the report: \(error)") }
                printLine(String(decoding: data, as: UTF8.self))
            } else {
                printLine(StackReportText.render(report))
            }
        }
    }

    static func analyze(image: String?, app: String?, board boardName: String) throws(KeelError) -> StackAnalysisReport {
        let toolchain = try? Toolchain.locate()
        if let image {
            try FileKind.requireReadable(image, limit: ELFFile.maximumFileBytes, what: "an ELF image")
            let elf: ELFFile
            do { elf = try ELFFile(contentsOf: URL(fileURLWithPath: image)) } catch { throw .elf(error.description) }
            return try StackAnalysis.analyze(elf: elf, path: image, board: nil, application: nil, layout: nil,
                                             demangler: toolchain?.demangler)
        }
        let board = try BoardCatalog.board(named: boardName)
        let application = try Manifest.load(directory: URL(fileURLWithPath: app!).standardizedFileURL, board: board)
        let tools = try Toolchain.locate()
        return try FirmwareBuilder(toolchain: tools).buildChecked(application, for: board, mode: .off).report
    }
}

/// keel check: build, analyse, and fail naming task and path when a stack can overflow.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fail when any stack can overflow: declared below its worst case, a frame larger than its guard, or unbounded.",
        discussion: "Exit status 1 lists every finding. `keel build` runs the same check unless --no-check.")

    @OptionGroup var target: TargetOptions

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            let (board, application) = try target.resolve()
            // In .error mode any finding is thrown, with every finding listed.
            let checked = try FirmwareBuilder(toolchain: try Toolchain.locate()).buildChecked(application, for: board, mode: .error)
            for warning in ProtectionWarnings.warnings(checked.image.layout, application: application, board: board) {
                printLine("warning: " + warning)
            }
            let tasks = checked.report.tasks.map { "\($0.task) \($0.worstBytes ?? 0)/\($0.declaredBytes ?? 0)" }
            printLine("stack check passed on \(board.name): " + tasks.joined(separator: ", ")
                      + "; handler \(checked.report.handlers.worstBytes ?? 0)/\(checked.report.handlers.declaredBytes ?? 0) (worst/declared bytes)")
        }
    }
}
