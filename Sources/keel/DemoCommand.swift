// keel demo: the main job. Builds and runs the demo application on each board: tasks
// interleave, one overflows its stack on purpose, the kernel catches it (by T2 on the M3,
// T1 on the M33, T4/T5 on the M0), restarts it once, catches it again and stops it; the
// others go on. Beside each run: the board's RAM map (and an SVG of it to scale). Then the
// segmented-stack example on the same board: stacks that grow from a shared pool, two
// tasks stopped when they ask for too much, and the segment table.

import ArgumentParser
import Foundation
import KeelKit

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build and run the demo on every board (or one): an overflow caught, a table of stacks.")

    @Option(help: "Run the demo on this board only.")
    var board: String?

    @Option(help: "Seconds before a board's run is stopped.")
    var timeout: Double = 60

    func run() throws {
        var failures = 0
        try reportingErrors { () throws(KeelError) in
            let boards = try board.map { name throws(KeelError) in [try BoardCatalog.board(named: name)] } ?? BoardCatalog.all
            let builder = FirmwareBuilder(toolchain: try Toolchain.locate())
            let directory = KeelRoot.examples.appendingPathComponent("demo")
            for board in boards {
                let application = try Manifest.load(directory: directory, board: board)
                printLine("== \(board.name): \(board.summary) ==")
                let image = try builder.buildChecked(application, for: board).image
                printLine("  RAM map (top first; # stack, X MPU guard, . padding or gap, ~ data, R reset record):")
                for line in MemoryMapText.render(image.layout) { printLine("    " + line) }
                let svg = image.elf.deletingLastPathComponent().appendingPathComponent("memory-map.svg")
                if (try? MemoryMapSVG.render(image.layout, title: "demo on \(board.name)").write(to: svg, atomically: true, encoding: .utf8)) != nil {
                    printLine("  (to scale: \(svg.path))")
                }
                printLine()
                let result = try Run.execute(image, options: RunOptions(timeoutSeconds: timeout, readsTasksAtTimeout: true), json: false, indent: "  ")
                let caught = Array(Set(result.faults.filter(\.isStackOverflow).map(\.task))).sorted()
                let verdict = result.timedOut ? "TIMED OUT"
                    : caught.isEmpty ? "NO OVERFLOW CAUGHT" : "overflow in \(caught.joined(separator: ", ")) caught; exit code \(result.exitCode ?? -1)"
                let unexpected = RunVerdict.evaluate(result, application: application).explanation
                if result.timedOut || caught.isEmpty || !unexpected.isEmpty { failures += 1 }
                printLine("  -> \(verdict)")
                for line in unexpected { printLine("  -> " + line.uppercased(with: nil).prefix(1) + line.dropFirst()) }
                printLine()
                if !segmented(board, builder) { failures += 1 }
                printLine()
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }

    /// Runs Firmware/Examples/segmented and prints what segmented stacks did; false on a failure.
    func segmented(_ board: Board, _ builder: FirmwareBuilder) -> Bool {
        do {
            let directory = KeelRoot.examples.appendingPathComponent("segmented")
            let application = try Manifest.load(directory: directory, board: board)
            let image = try builder.build(application, for: board)
            let code = board.architecture == .armv6m ? "Thumb-1" : "Thumb-2"
            printLine("  Segmented stacks (Firmware/Examples/segmented, \(code) split-stack code, \(application.segmentPoolBytes)-byte pool):")
            let runner = try QEMURunner.locate()
            let symbolizer = Symbolizer.forImage(at: image.elf, toolchain: builder.toolchain)
            let result = try runner.run(image, options: RunOptions(timeoutSeconds: timeout), symbolizer: symbolizer)
            for fault in result.faults {
                printLine("    " + RunReport.describe(fault))
                for line in RunReport.backtraceLines(fault) { printLine("    " + line) }
            }
            printLine()
            for line in RunReport.segmentTable(result.segments).split(separator: "\n") { printLine("    " + line) }
            let deep = result.output.filter { $0.hasPrefix("keel-test:deep ") }.map { line in
                line.split(separator: " ").first { $0.hasPrefix("checksum=") }.map(String.init) ?? "" }
            let same = deep.count == 2 && deep[0] == deep[1]
            let pool = result.segments.first { $0.kind == .pool }
            let balanced = pool != nil && pool?["free"] == pool?["bytes"]
            printLine("  -> deep recursion \(same ? "matches" : "DIFFERS FROM") the fixed stack's result; "
                + "pool \(balanced ? "balanced" : "NOT BALANCED") at the end; exit code \(result.exitCode ?? -1)")
            return same && balanced && result.exitCode == 0
        } catch {
            printLine("  segmented stacks: \(error)")
            return false
        }
    }
}
