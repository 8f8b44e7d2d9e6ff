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
            var waste: [LayoutWasteSummary] = []
            for board in boards where board.mpu != .none { waste.append(try LayoutWasteBench.measure(on: board).summary) }
            if json {
                struct Report: Encodable { var switches: [SwitchCost]; var layoutWaste: [LayoutWasteSummary] }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                printLine(String(decoding: (try? encoder.encode(Report(switches: all, layoutWaste: waste))) ?? Data(), as: UTF8.self))
                return
            }
            printLine("Instructions per context switch (two equal-priority tasks yielding, \(ContextSwitchBench.switches) switches, loops included)")
            var rows = [["board", "protection", "instr/switch", "vs none", "+instr", "exact", "target", "FreeRTOS"]]
            for cost in all {
                let reference = Self.freeRTOSReference[cost.board]?[cost.variant].map { String(format: "%.1f", $0) } ?? ""
                let none = all.first { $0.board == cost.board && $0.variant == "none" }?.perSwitch ?? cost.perSwitch
                let extra = cost.perSwitch - none
                let target = cost.variant.hasPrefix("T2") || cost.variant.hasPrefix("T3")
                    ? (extra <= 12 ? "<= +12: met" : "<= +12: MISSED") : ""
                rows.append([cost.board, cost.variant, String(format: "%.2f", cost.perSwitch),
                             String(format: "%.2fx", cost.ratio), String(format: "%+.2f", extra),
                             cost.repeatable ? "yes" : "NO", target, reference])
            }
            printLine(RunReport.table(rows, rightAligned: [2, 3, 4]))
            guard !waste.isEmpty else { return }
            printLine()
            printLine("RAM lost to MPU placement rules, \(LayoutWasteBench.sets) random sets of 3-10 T2 stacks (256-8192 B), planner vs plain power-of-two rounding")
            var wasteRows = [["board", "planner median", "planner worst", "median % of stacks", "worst %", "pow2 median", "pow2 worst", "pow2 median %"]]
            for summary in waste {
                wasteRows.append([summary.board, "\(summary.medianPlannerWaste) B", "\(summary.worstPlannerWaste) B",
                                  String(format: "%.1f %%", summary.medianPlannerShare * 100), String(format: "%.1f %%", summary.worstPlannerShare * 100),
                                  "\(summary.medianPowerOfTwoWaste) B", "\(summary.worstPowerOfTwoWaste) B",
                                  String(format: "%.1f %%", summary.medianPowerOfTwoShare * 100)])
            }
            printLine(RunReport.table(wasteRows, rightAligned: [1, 2, 3, 4, 5, 6, 7]))
        }
    }
}
