// keel faults: the fault-injection matrix, every technique against every overflow site.

import ArgumentParser
import Foundation
import KeelKit

struct Faults: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inject every kind of stack overflow under every technique and show what caught it and what it harmed.",
        discussion: """
        One image per board and technique (Firmware/Examples/mpu-overflow, and segmented for segmented stacks), each site run in turn with a \
        byte-exact copy of the stack area: caught or not and by what, the task blamed, bytes changed outside \
        the faulting stack, bystanders stopped with the true cause, whether the kernel went on or reset with \
        a record. Exits 1 when a technique missed a site it claims, a bystander was blamed, or the kernel was lost.
        """)

    @Option(help: "Run the matrix on this board only.")
    var board: String?

    @Option(help: "Run one technique only (limit-register, mpu-region, mpu-guard, red-zone, sp-check, prologue-check).")
    var technique: String?

    @Flag(help: "Print the cells and totals as JSON.")
    var json = false

    func run() throws {
        var failed = false
        try reportingErrors { () throws(KeelError) in
            let boards = try board.map { name throws(KeelError) in [try BoardCatalog.board(named: name)] } ?? BoardCatalog.all
            var only: Protection? = nil
            if let technique {
                guard let parsed = Protection(rawValue: technique), parsed != .paint else {
                    throw .runFailed("unknown technique '\(technique)' (known: limit-register, mpu-region, mpu-guard, red-zone, sp-check, prologue-check)")
                }
                only = parsed
            }
            let matrix = FaultMatrix(builder: FirmwareBuilder(toolchain: try Toolchain.locate()), runner: try QEMURunner.locate())
            var allCells: [FaultCell] = [], summaries: [FaultMatrixSummary] = []
            for board in boards {
                let (cells, summary) = try matrix.run(on: board, only: only)
                allCells += cells
                summaries.append(summary)
                if !json { Self.print(cells, summary) }
                if summary.detected < summary.claimed || summary.bystandersBlamed > 0 || summary.lockups > 0
                    || summary.falseVictims > 0 || summary.culpritsWrong > 0
                    || summary.bytesOutsideUnderStoppingTechniques > 0 { failed = true }
            }
            if json {
                struct Report: Encodable { var cells: [FaultCell]; var totals: [FaultMatrixSummary] }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                printLine(String(decoding: (try? encoder.encode(Report(cells: allCells, totals: summaries))) ?? Data(), as: UTF8.self))
            }
        }
        if failed { throw ExitCode(1) }
    }

    static func print(_ cells: [FaultCell], _ summary: FaultMatrixSummary) {
        printLine("== \(summary.board) ==")
        var rows = [["technique", "site", "claims", "caught", "by", "blamed", "outside", "bystanders stopped", "false victims", "culprit right", "wrongly blamed", "kernel"]]
        for cell in cells {
            rows.append([cell.technique, cell.site, cell.claimed ? "yes" : "no",
                         cell.caught ? (cell.overflows > 1 ? "yes (\(cell.overflows)x)" : "yes") : "NO",
                         cell.caughtBy, cell.blamed.joined(separator: ","), cell.bytesOutside.map { "\($0) B" } ?? "-",
                         cell.bystandersStopped.isEmpty ? "-" : cell.bystandersStopped.joined(separator: ",") + " (true cause)",
                         cell.falseVictims.isEmpty ? "0" : cell.falseVictims.joined(separator: ","), cell.culpritRight ? "yes" : "NO",
                         cell.bystandersBlamed.isEmpty ? "0" : cell.bystandersBlamed.joined(separator: ","), cell.kernel])
        }
        printLine(RunReport.table(rows, rightAligned: [6]))
        printLine("totals: detected \(summary.detected)/\(summary.claimed) claimed (\(summary.claimed == 0 ? 100 : summary.detected * 100 / summary.claimed) %), "
            + "bytes outside under T1/T2/T6 \(summary.bytesOutsideUnderStoppingTechniques), bystanders blamed \(summary.bystandersBlamed), "
            + "false victims \(summary.falseVictims), culprits wrong \(summary.culpritsWrong), lockups \(summary.lockups); \(String(format: "%.0f", summary.seconds)) s")
        printLine()
    }
}
