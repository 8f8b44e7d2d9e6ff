// keel bench: deterministic instruction counts for what each protection costs.

import ArgumentParser
import Foundation
import KeelKit

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count executed instructions per context switch for each protection, against the unprotected switch.",
        discussion: "Counts come from a QEMU plugin under -icount and repeat exactly run after run.")

    @Option(help: "Measure this board only.")
    var board: String?

    @Flag(help: "Print the results as JSON.")
    var json = false

    /// FreeRTOS measured the same way on the same QEMU boards (issue #2), for comparison.
    static let freeRTOSReference: [String: [String: Double]] = [
        "mps2-an385": ["none": 58.5, "T5 SP check": 65.5, "T4 + T5": 79.5],
        "mps2-an505": ["T1 PSPLIM": 64.5],
    ]

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            let boards = try board.map { name throws(KeelError) in [try BoardCatalog.board(named: name)] } ?? BoardCatalog.all
            let bench = ContextSwitchBench(builder: FirmwareBuilder(toolchain: try Toolchain.locate()),
                                           runner: try QEMURunner.locate(), plugin: try ContextSwitchBench.makePlugin())
            var all: [SwitchCost] = []
            for board in boards { all += try bench.measure(on: board) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                printLine(String(decoding: (try? encoder.encode(all)) ?? Data(), as: UTF8.self))
                return
            }
            printLine("Instructions per context switch (two equal-priority tasks yielding, \(ContextSwitchBench.switches) switches, loops included)")
            var rows = [["board", "protection", "instr/switch", "vs none", "exact", "FreeRTOS"]]
            for cost in all {
                let reference = Self.freeRTOSReference[cost.board]?[cost.variant].map { String(format: "%.1f", $0) } ?? ""
                rows.append([cost.board, cost.variant, String(format: "%.2f", cost.perSwitch),
                             String(format: "%.2fx", cost.ratio), cost.repeatable ? "yes" : "NO", reference])
            }
            printLine(RunReport.table(rows, rightAligned: [2, 3]))
        }
    }
}
