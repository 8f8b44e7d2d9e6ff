// keel bench: deterministic instruction counts for what each protection costs.

import ArgumentParser
import Foundation
import KeelKit

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count executed instructions per context switch for each protection, per service hand-off against FreeRTOS, and what segmented stacks and MPU placement cost.",
        discussion: "Counts come from a QEMU plugin under -icount and repeat exactly run after run.")

    @Option(help: "Measure this board only (repeat the option for several; every board by default).")
    var board: [String] = []

    @Flag(help: "Print the results as JSON.")
    var json = false

    /// The parts of the bench, each a table of its own.
    enum Part: String, CaseIterable, ExpressibleByArgument {
        case `switch`, ipc, segmented, layout, float, masking, idle, log
        case threadMetric = "thread-metric"
    }

    @Option(help: "Measure only this part: switch, ipc, segmented, layout, float, masking, idle, log or thread-metric (repeat the option for several; all by default).")
    var only: [Part] = []

    @Option(help: ArgumentHelp("Measure this application instead: every context switch of one run, and its segments.", valueName: "dir"))
    var app: String?

    @Option(help: "Seconds before the application's run is stopped (with --app).")
    var timeout: Double = 30

    func validate() throws {
        if app != nil && !only.isEmpty { throw ValidationError("--app measures the application; --only picks parts of Keel's own bench") }
    }

    /// The parts to measure: those named with --only, else all of them.
    var parts: Set<Part> { only.isEmpty ? Set(Part.allCases) : Set(only) }

    /// FreeRTOS measured the same way on the same QEMU boards (issue #2), for comparison.
    static let freeRTOSReference: [String: [String: Double]] = [
        "mps2-an385": ["none": 58.5, "T5 SP check": 65.5, "T4 + T5": 79.5],
        "mps2-an505": ["T1 PSPLIM": 64.5],
    ]

    func run() throws {
        try reportingErrors { () throws(KeelError) in
            var boards = BoardCatalog.all
            if !board.isEmpty {
                boards = []
                for name in board { boards.append(try BoardCatalog.board(named: name)) }
            }
            let bench = ContextSwitchBench(builder: FirmwareBuilder(toolchain: try Toolchain.locate()),
                                           runner: try QEMURunner.locate(), plugin: try ContextSwitchBench.makePlugin())
            if let app {
                try Self.measureApplication(app, board: board.first ?? "mps2-an385", timeout: timeout, bench: bench, json: json)
                return
            }
            let parts = self.parts
            var all: [SwitchCost] = []
            if parts.contains(.switch) { for board in boards { all += try bench.measure(on: board) } }
            var services: [IPCCost] = []
            if parts.contains(.ipc) {
                let ipcBench = IPCBench(bench: bench)
                for board in boards { services += try ipcBench.measure(on: board) }
            }
            var waste: [LayoutWasteSummary] = []
            if parts.contains(.layout) {
                for board in boards where board.mpu != .none { waste.append(try LayoutWasteBench.measure(on: board).summary) }
            }
            var floats: [FloatCost] = []
            if parts.contains(.float) {
                let floatBench = FloatBench(bench: bench)
                for board in boards { if let cost = try floatBench.measure(on: board) { floats.append(cost) } }
            }
            var masking: [MaskingCost] = []
            if parts.contains(.masking) {
                let maskingBench = MaskingBench(bench: bench)
                for board in boards { masking.append(try maskingBench.measure(on: board)) }
            }
            var idle: [IdleCost] = []
            if parts.contains(.idle) {
                let idleBench = IdleBench(bench: bench)
                for board in boards { idle.append(try idleBench.measure(on: board)) }
            }
            var logCosts: [LogChannelCost] = []
            if parts.contains(.log) {
                let logBench = LogChannelBench(bench: bench)
                for board in boards { logCosts.append(try logBench.measure(on: board)) }
            }
            var threadMetric: [ThreadMetricCost] = []
            if parts.contains(.threadMetric) {
                let suite = ThreadMetricBench(bench: bench)
                for board in boards { threadMetric += try suite.measure(on: board) }
            }
            let segmentedBench = SegmentedStackBench(bench: bench)
            var segmented: [SegmentedBenchResult] = []
            if parts.contains(.segmented) { for board in boards { segmented.append(try segmentedBench.measure(on: board)) } }
            if json {
                // A part left out with --only is absent from the report (not an empty list).
                struct Report: Encodable {
                    var switches: [SwitchCost]?; var services: [IPCCost]?
                    var layoutWaste: [LayoutWasteSummary]?; var segmented: [SegmentedBenchResult]?; var float: [FloatCost]?
                    var masking: [MaskingCost]?; var threadMetric: [ThreadMetricCost]?; var idle: [IdleCost]?; var log: [LogChannelCost]?
                }
                let report = Report(switches: parts.contains(.switch) ? all : nil, services: parts.contains(.ipc) ? services : nil,
                                    layoutWaste: parts.contains(.layout) ? waste : nil, segmented: parts.contains(.segmented) ? segmented : nil,
                                    float: parts.contains(.float) ? floats : nil, masking: parts.contains(.masking) ? masking : nil,
                                    threadMetric: parts.contains(.threadMetric) ? threadMetric : nil,
                                    idle: parts.contains(.idle) ? idle : nil, log: parts.contains(.log) ? logCosts : nil)
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                printLine(String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self))
                return
            }
            if parts.contains(.switch) { Self.printSwitches(all) }
            if parts.contains(.ipc) { Self.printServices(services, afterAnother: parts.contains(.switch)) }
            if parts.contains(.segmented) { Self.printSegmented(segmented) }
            if parts.contains(.float) && !floats.isEmpty {
                printLine()
                printLine("Float-heavy load: a 16-tap FIR and a biquad in Float, instructions per sample (\(FloatBench.samples) samples), "
                          + "hard float (the FPU) against soft float (libgcc), same board, same run")
                var rows = [["board", "FPU", "hard", "soft", "soft / hard", "same result", "exact"]]
                for cost in floats {
                    let fpu = BoardCatalog.all.first { $0.name == cost.board }?.fpu?.name ?? ""
                    rows.append([cost.board, fpu, String(format: "%.1f", cost.hardPerSample), String(format: "%.1f", cost.softPerSample),
                                 String(format: "%.1fx", cost.speedup), cost.sameResult ? "yes" : "NO", cost.repeatable ? "yes" : "NO"])
                }
                printLine(RunReport.table(rows, rightAligned: [2, 3, 4]))
            }
            if parts.contains(.threadMetric) { Self.printThreadMetric(threadMetric) }
            if parts.contains(.masking) && !masking.isEmpty {
                printLine()
                printLine("The kernel's longest masked section (instructions, over whole runs of the demo and bench-ipc) and the latency "
                          + "of a zero-latency interrupt pended inside a masked section (pend to the handler's first instruction)")
                var rows = [["board", "kernel masks with", "longest masked", "sections", "latency: kernel mask", "latency: PRIMASK"]]
                for cost in masking {
                    rows.append([cost.board, cost.mechanism, "\(cost.longestMaskedSection)", "\(cost.maskedSections)",
                                 cost.latencyUnderKernelMask.map { "\($0)" } ?? "- (no BASEPRI)",
                                 cost.latencyUnderPRIMASK.map { "\($0)" } ?? "= its masked sections"])
                }
                printLine(RunReport.table(rows, rightAligned: [2, 3, 4, 5]))
                printLine()
                printLine("The console's longest masked section (instructions) while the shell example echoes 40 typed lines, "
                          + "from its task's start: through the interrupt-driven ring, and polled (\"console\": {\"output\": 0})")
                var consoleRows = [["board", "ring, 2-byte lines", "ring, 75-byte lines", "polled, 75-byte lines", "kernel's longest"]]
                for cost in masking {
                    guard let console = cost.console else {
                        consoleRows.append([cost.board, "- (no transmit interrupt)", "-", "-", "\(cost.longestMaskedSection)"])
                        continue
                    }
                    consoleRows.append([cost.board, "\(console.ringShortLines)", "\(console.ringLongLines)", "\(console.polledLongLines)",
                                        "\(cost.longestMaskedSection)"])
                }
                printLine(RunReport.table(consoleRows, rightAligned: [1, 2, 3, 4]))
            }
            if parts.contains(.idle) && !idle.isEmpty { Self.printIdle(idle) }
            if parts.contains(.log) && !logCosts.isEmpty { Self.printLogChannels(logCosts) }
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

    /// `--app`: one run of the user's application under the counter.
    static func measureApplication(_ path: String, board name: String, timeout: Double, bench: ContextSwitchBench,
                                   json: Bool) throws(KeelError) {
        let board = try BoardCatalog.board(named: name)
        let application = try Manifest.load(directory: URL(fileURLWithPath: path).standardizedFileURL, board: board)
        let result = try ApplicationBench(bench: bench).measure(application, on: board, timeoutSeconds: timeout)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            printLine(String(decoding: (try? encoder.encode(result)) ?? Data(), as: UTF8.self))
            return
        }
        let ending = result.exitCode.map { "ended with code \($0)" } ?? "stopped after \(timeout) s"
        printLine("\(result.application) on \(result.board) (\(ending)): \(result.switches) context switches, "
            + String(format: "%.1f", result.perSwitch) + " instructions each on average (fewest \(result.fewest), most \(result.most)), "
            + String(format: "%.2f %%", result.switchShare * 100) + " of the run's \(result.totalInstructions) instructions")
        printLine("  (a switch: PendSV's first instruction to its exception return, the switch-out detectors and the protection loads included)")
        if result.segments.isEmpty { return }
        var rows = [["task", "splits", "pool allocations", "peak segments", "peak bytes"]]
        for record in result.segments {
            rows.append([record.task ?? "?", String(record["splits"] ?? 0), String(record["pool_allocations"] ?? 0),
                         String(record["peak"] ?? 0), String(record["peak_bytes"] ?? 0)])
        }
        printLine(RunReport.table(rows, rightAligned: [1, 2, 3, 4]))
    }

    static func printSwitches(_ all: [SwitchCost]) {
        printLine("Instructions per context switch (two equal-priority tasks yielding, \(ContextSwitchBench.switches) switches, loops included)")
        var rows = [["board", "protection", "instr/switch", "vs none", "+instr", "exact", "target", "FreeRTOS"]]
        for cost in all {
            let reference = Self.freeRTOSReference[cost.board]?[cost.variant].map { String(format: "%.1f", $0) } ?? ""
            let none = all.first { $0.board == cost.board && $0.variant == "none" }?.perSwitch ?? cost.perSwitch
            let extra = cost.perSwitch - none
            let soft = all.first { $0.board == cost.board && $0.variant == SwitchVariant.softImage }?.perSwitch
            let target: String
            if cost.variant.hasPrefix("T2") || cost.variant.hasPrefix("T3") {
                target = extra <= 12 ? "<= +12: met" : "<= +12: MISSED"
            } else if cost.variant == "none", let soft {
                // FPU support in the image: what two integer tasks' switch pays for it.
                let paid = cost.perSwitch - soft
                target = String(format: "<= +4 vs soft (%+.2f): ", paid) + (paid <= 4 ? "met" : "MISSED")
            } else if cost.variant == SwitchVariant.floatingPointTasksLabel {
                target = extra <= 8 ? "<= +8: met" : "<= +8: MISSED"
            } else {
                target = ""
            }
            rows.append([cost.board, cost.variant, String(format: "%.2f", cost.perSwitch),
                         String(format: "%.2fx", cost.ratio), String(format: "%+.2f", extra),
                         cost.repeatable ? "yes" : "NO", target, reference])
        }
        printLine(RunReport.table(rows, rightAligned: [2, 3, 4]))
    }

    static func printLogChannels(_ costs: [LogChannelCost]) {
        printLine()
        printLine("What a Log record of two integers costs the core, in instructions (bench-log: 32 records and the UART's sending, "
            + "less the same loop without them): through the console's ring (its copy and every byte's transmit interrupt), "
            + "polled (\"console\": {\"output\": 0}), and into an RTT channel (\"log\": \"rtt\"), which the probe reads")
        var rows = [["board", "UART, ring", "UART, polled", "RTT", "RTT vs ring", "exact"]]
        for cost in costs {
            rows.append([cost.board, cost.uartRing.map { String(format: "%.1f", $0) } ?? "- (polled under QEMU)",
                         String(format: "%.1f", cost.uartPolled), String(format: "%.1f", cost.rtt),
                         cost.uartRing.map { String(format: "%.2fx", cost.rtt / $0) } ?? String(format: "%.2fx polled", cost.rtt / cost.uartPolled),
                         cost.exact ? "yes" : "NO"])
        }
        printLine(RunReport.table(rows, rightAligned: [1, 2, 3, 4]))
    }

    static func printIdle(_ costs: [IdleCost]) {
        printLine()
        printLine("An idle second (bench-idle: the only task sleeps 1000 ticks at 1 kHz): instructions executed and exceptions taken "
            + "between the markers, the kernel ticking (\"tickless\": false) against tickless idle, and how late the task woke")
        var rows = [["board", "instr ticking", "instr tickless", "fewer", "interrupts ticking", "interrupts tickless", "fewer",
                     "idle sleeps", "late (ticks)", "target"]]
        for cost in costs {
            rows.append([cost.board, "\(cost.tickingInstructions)", "\(cost.ticklessInstructions)", String(format: "%.0fx", cost.instructionRatio),
                         "\(cost.tickingInterrupts)", "\(cost.ticklessInterrupts)", String(format: "%.0fx", cost.interruptRatio),
                         "\(cost.ticklessSleeps)", "\(cost.tickingLate) / \(cost.ticklessLate)",
                         String(format: ">= %.0fx: ", IdleBench.goal) + (cost.met ? "met" : "MISSED")])
        }
        printLine(RunReport.table(rows, rightAligned: [1, 2, 3, 4, 5, 6, 7]))
    }

    static func printThreadMetric(_ costs: [ThreadMetricCost]) {
        printLine()
        printLine("Thread-Metric, instructions per unit (\(ThreadMetricBench.rounds) rounds a test, after a warm-up; "
            + "ThreadX 6 and FreeRTOS 11: the suite's ports on \(ThreadMetricBench.referenceBoard), same counter)")
        var rows = [["board", "test", "unit", "protection", "instr/unit", "ThreadX", "FreeRTOS", "target", "exact"]]
        func figure(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "-" }
        for cost in costs {
            let target = cost.target.map { "<= \(Int($0)): " + (cost.met == true ? "met" : "MISSED") } ?? "-"
            rows.append([cost.board, cost.test, cost.unit, cost.protection, String(format: "%.1f", cost.perUnit),
                         figure(cost.threadX), figure(cost.freeRTOS), target, cost.repeatable ? "yes" : "NO"])
        }
        printLine(RunReport.table(rows, rightAligned: [4, 5, 6]))
    }

    static func printServices(_ costs: [IPCCost], afterAnother: Bool) {
        if afterAnother { printLine() }
        printLine("Instructions per hand-off of the kernel's services (bench-ipc: equal-priority ping-pong, one switch per message; "
            + "\(IPCBench.rounds) round trips or pairs, \(IPCBench.interrupts) interrupts; loops included)")
        printLine("  FreeRTOS 11 (clang -O2) counted the same way: the M3's figure for the M33")
        var rows = [["board", "shape", "instr", "per", "FreeRTOS", "vs FreeRTOS", "target", "exact"]]
        for cost in costs {
            rows.append([cost.board, cost.shape, String(format: "%.2f", cost.perUnit), cost.unit,
                         cost.freeRTOS.map { String(format: "%.1f", $0) } ?? "-",
                         cost.freeRTOS.map { String(format: "%.2fx", cost.perUnit / $0) } ?? "-",
                         cost.target.map { String(format: "<= %g: ", $0) + (cost.met ? "met" : "MISSED") } ?? "-",
                         cost.repeatable ? "yes" : "NO"])
        }
        printLine(RunReport.table(rows, rightAligned: [2, 4, 5]))
    }

    static func printSegmented(_ results: [SegmentedBenchResult]) {
        func percent(_ ratio: Double?) -> String { ratio.map { String(format: "%+.1f %%", ($0 - 1) * 100) } ?? "" }
        func target(_ met: Bool) -> String { met ? "met" : "MISSED" }
        printLine()
        printLine("Segmented stacks: instructions between the markers (sort of 512 words with comparison calls; fib(18); a moving average through small helpers; "
            + "\(SegmentedStackBench.hotCalls) calls at / away from a segment boundary)")
        printLine("  all checked: the prologue on every task function; nosplit: taken off what the analysis proved fits in the slack")
        printLine("  own fixed: thumb-2 fixed on the M3 and M33 (their split code is Thumb-2), thumb-1 fixed on the M0; "
            + "thumb-1 segmented: the M3's and M33's Thumb-1 split route before issue 15")
        var rows = [["board", "load", "thumb-2 fixed", "thumb-1 fixed", "split fixed", "segmented all checked", "segmented nosplit",
                     "thumb-1 segmented", "vs own fixed before", "vs own fixed after", "thumb-1 vs thumb-2", "target"]]
        for result in results {
            for (name, table) in [("sort", result.sort), ("fib", result.fib), ("filter", result.filter)] {
                let own = SegmentedBenchResult.ownFixed(table)
                let before = SegmentedBenchResult.ratio(table, "segmented all checked", own)
                let overhead = SegmentedBenchResult.ratio(table, "segmented", own)
                // Issue 15's targets are against thumb-2 fixed (M3, M33); the M0 keeps the sort's against thumb-1.
                let goal: String
                if own == "thumb-2 fixed", let bound = SegmentedBenchResult.target(load: name) {
                    goal = String(format: "<= %+.0f %%: ", (bound - 1) * 100) + target((overhead ?? 9) <= bound)
                } else {
                    goal = name == "sort" ? "<= +10 %: " + target((overhead ?? 9) <= 1.10) : name == "fib" ? "worst case" : ""
                }
                rows.append([result.board, name, table["thumb-2 fixed"].map(String.init) ?? "-", table["thumb-1 fixed"].map(String.init) ?? "",
                             table["split fixed"].map(String.init) ?? "", table["segmented all checked"].map(String.init) ?? "",
                             table["segmented"].map(String.init) ?? "", table["thumb-1 segmented"].map(String.init) ?? "-",
                             percent(before), percent(overhead), percent(SegmentedBenchResult.ratio(table, "thumb-1 fixed", "thumb-2 fixed")),
                             goal])
            }
        }
        printLine(RunReport.table(rows, rightAligned: Set(2...10)))
        printLine("  functions built without the check (filter image): "
            + results.map { "\($0.board) \($0.nosplitFunctions)" }.joined(separator: ", "))
        printLine()
        printLine("T6, the prologue check on a fixed stack (no hardware needed), against the same program unprotected on the same board")
        var t6 = [["board", "load", "unprotected", "T6", "cost"]]
        for result in results {
            for (name, table) in [("sort", result.sort), ("fib", result.fib), ("filter", result.filter)] {
                let own = SegmentedBenchResult.ownFixed(table)
                t6.append([result.board, name, table[own].map(String.init) ?? "", table[SegmentedStackBench.prologueCheckLabel].map(String.init) ?? "",
                           percent(SegmentedBenchResult.ratio(table, SegmentedStackBench.prologueCheckLabel, own))])
            }
        }
        printLine(RunReport.table(t6, rightAligned: [2, 3, 4]))
        printLine()
        printLine("The hot split: \(SegmentedStackBench.hotCalls) calls at the first segment's boundary against the same calls with room; "
            + "the round trip: the same with an allocator that never grows a segment in place (every call a grow + release through __morestack)")
        var hot = [["board", "at boundary", "away", "ratio", "target", "split at", "split away", "round trip (instr)", "target", "exact"]]
        for result in results {
            hot.append([result.board, String(result.boundaryInstructions), String(result.awayInstructions),
                        String(format: "%.2fx", result.hotSplitRatio), "<= 1.3x: " + target(result.hotSplitRatio <= 1.3),
                        String(result.splittingBoundaryInstructions), String(result.splittingAwayInstructions),
                        String(format: "%.1f", result.roundTrip), "<= 80: " + target(result.roundTrip <= 80), result.exact ? "yes" : "NO"])
        }
        printLine(RunReport.table(hot, rightAligned: [1, 2, 3, 5, 6, 7]))
        for result in results where result.hasSegmentGuard {
            let price = result.roundTrip - result.roundTripWithoutGuard
            printLine("  \(result.board): the segment guard (an MPU region that follows the segment in use) costs "
                + String(format: "%+.1f", price) + " instructions per round trip (" + String(format: "%.1f", result.roundTrip)
                + " with it, " + String(format: "%.1f", result.roundTripWithoutGuard) + " without: \(result.unguardedSplittingBoundaryInstructions)"
                + " / \(result.unguardedSplittingAwayInstructions) at the boundary / away)")
        }
        let ram = results.compactMap { result in result.ram.map { (result.board, $0) } }
        guard !ram.isEmpty else { return }
        printLine()
        printLine("RAM of a six-task application whose deep phases come at different times: segmented peak vs the fixed stacks it needs")
        var ramRows = [["board", "first segments", "pool peak", "segmented peak", "fixed need", "ratio", "target"]]
        for (board, figure) in ram {
            ramRows.append([board, "\(figure.firstSegments) B", "\(figure.poolPeak) B", "\(figure.segmentedPeak) B",
                            "\(figure.fixedNeed) B" + (figure.roundedToPowerOfTwo ? " (pow2)" : ""),
                            String(format: "%.2fx", figure.ratio), "<= 0.5x: " + target(figure.ratio <= 0.5)])
        }
        printLine(RunReport.table(ramRows, rightAligned: [1, 2, 3, 4, 5]))
    }
}
